// Helpers shared by the store tests: a private temporary directory, and raw access to what a store wrote
// (to damage it on purpose).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <thingwell/core/bytes.hpp>
#include <thingwell/core/config.hpp>

#if THINGWELL_HAS_POSIX
#  include <dirent.h>
#  include <sys/stat.h>
#  include <unistd.h>
#endif

namespace store_testing {

// The payload of queue record `id`: its number, then bytes derived from it, `size` bytes in all. A
// record read back can be checked against its sequence number without keeping a copy.
inline std::vector<thingwell::byte> payload(std::uint64_t id, std::size_t size) {
  std::vector<thingwell::byte> p(size);
  char head[24];
  const int n = std::snprintf(head, sizeof head, "rec-%06llu-", static_cast<unsigned long long>(id));
  for (std::size_t i = 0; i < size; ++i)
    p[i] = i < static_cast<std::size_t>(n) ? static_cast<thingwell::byte>(head[i])
                                           : static_cast<thingwell::byte>('a' + (id * 7 + i) % 26);
  return p;
}

// Flips one bit in the middle of the first occurrence of `pattern` in `bytes`; false when absent.
inline bool flip_in(thingwell::mutable_bytes bytes, std::string_view pattern) {
  if (pattern.empty() || bytes.size() < pattern.size()) return false;
  for (std::size_t i = 0; i + pattern.size() <= bytes.size(); ++i)
    if (std::memcmp(bytes.data() + i, pattern.data(), pattern.size()) == 0) {
      bytes[i + pattern.size() / 2] ^= 0x10;
      return true;
    }
  return false;
}

#if THINGWELL_HAS_POSIX

// A directory under $TMPDIR (or /tmp), removed with its files when the object goes away.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/thingwell-store-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) != nullptr) path_ = buffer.data();
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    if (path_.empty()) return;
    clear();
    ::rmdir(path_.c_str());
  }

  bool ok() const { return !path_.empty(); }
  const std::string& path() const { return path_; }
  std::string sub(const char* name) const { return path_ + "/" + name; }

  // Removes every file in the directory (the stores keep a flat layout).
  void clear() const {
    for (const std::string& f : files()) ::unlink(f.c_str());
  }

  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir(path_.c_str())) {
      while (const dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) out.push_back(path_ + "/" + e->d_name);
      ::closedir(d);
    }
    return out;
  }

 private:
  std::string path_;
};

inline std::vector<thingwell::byte> read_file(const std::string& path) {
  std::vector<thingwell::byte> out;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    thingwell::byte chunk[4096];
    std::size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) out.insert(out.end(), chunk, chunk + n);
    std::fclose(f);
  }
  return out;
}

inline bool write_file(const std::string& path, const std::vector<thingwell::byte>& bytes, const char* how = "wb") {
  std::FILE* f = std::fopen(path.c_str(), how);
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

// Flips a bit inside `pattern` in whichever file of `dir` holds it.
inline bool flip_in_directory(const temp_dir& dir, std::string_view pattern) {
  for (const std::string& f : dir.files()) {
    std::vector<thingwell::byte> bytes = read_file(f);
    if (flip_in(bytes, pattern)) return write_file(f, bytes);
  }
  return false;
}

#endif  // THINGWELL_HAS_POSIX

}  // namespace store_testing
