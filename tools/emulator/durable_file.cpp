#include "durable_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>

namespace thingwell::emulator {

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

std::error_code replace_file_durably(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  if (auto ec = write_durably(temporary, text)) return ec;
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const auto ec = last_error();
    ::unlink(temporary.c_str());
    return ec;
  }
  auto directory = std::filesystem::path(path).parent_path().string();
  sync_directory(directory.empty() ? "." : directory);
  return {};
}

}  // namespace thingwell::emulator
