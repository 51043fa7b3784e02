#include "text_files.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace thingwell::testing {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
}

std::string last_lines_of_file(const std::string& path, std::size_t line_count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(" + path + " is not readable)\n";
  // Logs of long tests reach megabytes; only the end matters for a failure message.
  constexpr std::streamoff window = 64 * 1024;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff start = size > window ? size - window : 0;
  in.seekg(start);
  std::string text(static_cast<std::size_t>(size - start), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));

  std::size_t begin = text.size();
  std::size_t found = 0;
  // A trailing newline ends the last line rather than starting an empty one.
  std::size_t search_end = (!text.empty() && text.back() == '\n') ? text.size() - 1 : text.size();
  while (found < line_count && search_end > 0) {
    const std::size_t newline = text.rfind('\n', search_end - 1);
    if (newline == std::string::npos) {
      begin = 0;
      break;
    }
    begin = newline + 1;
    search_end = newline;
    ++found;
  }
  if (found < line_count) begin = 0;
  return text.substr(begin);
}

}  // namespace thingwell::testing
