#include "shadow_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace thingwell::emulator {

namespace fs = std::filesystem;

namespace {

std::error_code last_error() { return {errno, std::generic_category()}; }

// Writes the whole text and fsyncs it: rename() alone orders nothing on most file systems.
std::error_code write_durably(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return last_error();
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const auto ec = last_error();
      ::close(fd);
      return ec;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const auto ec = last_error();
    ::close(fd);
    return ec;
  }
  if (::close(fd) != 0) return last_error();
  return {};
}

void sync_directory(const std::string& directory) {
  // Makes the rename itself durable; a failure only weakens durability, so it is not reported.
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

std::error_code shadow_store::open() {
  std::error_code ec;
  fs::create_directories(directory_, ec);
  return ec;
}

std::string shadow_store::file_for(const shadow_key& key) const {
  std::string name = key.thing;
  if (key.named()) name += ".name." + key.shadow;
  return (fs::path(directory_) / (name + ".json")).string();
}

std::error_code shadow_store::save(const shadow_key& key, const shadow_document& document) const {
  const std::string path = file_for(key);
  const std::string temporary = path + ".tmp";
  if (auto ec = write_durably(temporary, to_json(document.to_record(key)) + "\n")) return ec;
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const auto ec = last_error();
    ::unlink(temporary.c_str());
    return ec;
  }
  sync_directory(directory_);
  return {};
}

shadow_store::loaded shadow_store::load() const {
  loaded out;
  std::error_code ec;
  for (fs::directory_iterator it(directory_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    // A leftover .tmp is a save that did not reach its rename: the previous file is the truth.
    if (path.extension() != ".json") continue;
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto record = parse_json(text, 16 * 1024 * 1024);
    shadow_key key;
    shadow_document document;
    if (!record) {
      out.skipped.push_back(path.string() + ": " + record.error().message());
    } else if (!shadow_document::from_record(*record, key, document)) {
      out.skipped.push_back(path.string() + ": not a shadow record");
    } else {
      out.shadows.emplace_back(std::move(key), std::move(document));
    }
  }
  if (ec) out.skipped.push_back(directory_ + ": " + ec.message());
  return out;
}

}  // namespace thingwell::emulator
