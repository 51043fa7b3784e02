#include "jobs_store.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "durable_file.hpp"

namespace thingwell::emulator {

namespace fs = std::filesystem;

jobs_store::jobs_store(const std::string& data_directory)
    : directory_((fs::path(data_directory) / "jobs").string()), file_((fs::path(directory_) / "jobs.json").string()) {}

std::error_code jobs_store::open() {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  return ec;
}

std::error_code jobs_store::save(const json_value& record) const { return replace_file_durably(file_, to_json(record) + "\n"); }

std::optional<json_value> jobs_store::load(std::string& error) const {
  error.clear();
  std::ifstream in(file_, std::ios::binary);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto record = parse_json(text, std::size_t{256} * 1024 * 1024);
  if (!record) {
    error = file_ + ": " + record.error().message();
    return std::nullopt;
  }
  return std::move(*record);
}

}  // namespace thingwell::emulator
