// thingwell — the file system calls the file log makes, as one replaceable type.
//
// The file log is a template over its file operations so that tests can put a crash-injecting layer
// (faulty_file_ops.hpp) between the log and the kernel without a virtual call in production. Every call
// maps errno to a thingwell error: a full disk or quota (ENOSPC, EDQUOT, EFBIG) is errc::storage_full, a
// missing file errc::not_found, anything else errc::storage_io; last_errno() keeps the original for logs.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_HAS_POSIX

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::store {

class posix_file_ops {
 public:
  enum class mode { read, append, create_new, read_write };

  result<int> open(const char* path, mode m) noexcept {
    int flags = O_CLOEXEC;
    switch (m) {
      case mode::read: flags |= O_RDONLY; break;
      case mode::append: flags |= O_RDWR | O_APPEND | O_CREAT; break;  // read back by the reader too
      case mode::create_new: flags |= O_WRONLY | O_CREAT | O_TRUNC; break;
      case mode::read_write: flags |= O_RDWR | O_CREAT; break;
    }
    int fd;
    do fd = ::open(path, flags, 0644);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return error();
    return fd;
  }

  // One write(2): it may write fewer bytes than asked (the caller loops).
  result<std::size_t> write(int fd, bytes_view data) noexcept {
    ssize_t n;
    do n = ::write(fd, data.data(), data.size());
    while (n < 0 && errno == EINTR);
    if (n < 0) return error();
    return static_cast<std::size_t>(n);
  }

  result<std::size_t> pwrite(int fd, bytes_view data, std::uint64_t offset) noexcept {
    ssize_t n;
    do n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    while (n < 0 && errno == EINTR);
    if (n < 0) return error();
    return static_cast<std::size_t>(n);
  }

  result<std::size_t> pread(int fd, mutable_bytes out, std::uint64_t offset) noexcept {
    ssize_t n;
    do n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    while (n < 0 && errno == EINTR);
    if (n < 0) return error();
    return static_cast<std::size_t>(n);
  }

  // File data (and the size) reach the medium; other metadata need not (fdatasync).
  result<void> sync(int fd) noexcept {
#if defined(__APPLE__)
    if (::fsync(fd) != 0) return error();
#else
    if (::fdatasync(fd) != 0) return error();
#endif
    return success();
  }

  result<void> truncate(int fd, std::uint64_t size) noexcept {
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) return error();
    return success();
  }

  result<std::uint64_t> size(int fd) noexcept {
    struct stat st;
    if (::fstat(fd, &st) != 0) return error();
    return static_cast<std::uint64_t>(st.st_size);
  }

  result<void> close(int fd) noexcept {
    // Linux releases the descriptor even when close fails; retrying could close someone else's file.
    if (::close(fd) != 0 && errno != EINTR) return error();
    return success();
  }

  result<void> rename(const char* from, const char* to) noexcept {
    if (::rename(from, to) != 0) return error();
    return success();
  }

  result<void> unlink(const char* path) noexcept {
    if (::unlink(path) != 0) return error();
    return success();
  }

  result<void> make_directory(const char* path) noexcept {
    if (::mkdir(path, 0755) != 0 && errno != EEXIST) return error();
    return success();
  }

  // A new, renamed or removed name is durable only once its directory is synced.
  result<void> sync_directory(const char* path) noexcept {
    const int fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return error();
    const int rc = ::fsync(fd);
    const int saved = errno;
    ::close(fd);
    if (rc != 0) {
      errno = saved;
      return error();
    }
    return success();
  }

  // Calls on_name(const char*) for every entry except "." and "..".
  template <class F>
  result<void> list(const char* path, F&& on_name) noexcept {
    DIR* d = ::opendir(path);
    if (d == nullptr) return error();
    while (const dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      on_name(static_cast<const char*>(e->d_name));
    }
    ::closedir(d);
    return success();
  }

  int last_errno() const noexcept { return last_errno_; }

 private:
  std::error_code error() noexcept {
    last_errno_ = errno;
    switch (last_errno_) {
      case ENOSPC:
      case EDQUOT:
      case EFBIG: return errc::storage_full;
      case ENOENT: return errc::not_found;
      default: return errc::storage_io;
    }
  }

  int last_errno_ = 0;
};

}  // namespace thingwell::store

#endif  // THINGWELL_HAS_POSIX
