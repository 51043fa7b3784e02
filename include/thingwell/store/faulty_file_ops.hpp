// thingwell — file operations that crash or fill up on cue, for recovery tests of the file log.
//
// faulty_file_ops forwards to posix_file_ops and counts every call that writes file data (write and
// pwrite). The fault plan names one of those calls:
//
//  * fault::crash: the call writes only its first `keep_bytes` bytes (a torn write), then the "machine"
//    is gone: this and every later call fails with errc::storage_io. With `lose_unsynced`, every file is
//    also cut back to the size it had at its last sync, as after a power cut that empties the page cache.
//    The test reboots by opening a new log over the same directory with plain posix_file_ops.
//  * fault::disk_full: the call writes `keep_bytes` bytes and then fails with ENOSPC, and so does every
//    later append write until the test clears `disk_full` (space was freed). In-place pwrite()s still
//    work, as they do on a real full disk: the blocks are already allocated.
//
// Modelling limits: in-place pwrite()s are kept even with lose_unsynced (only appended bytes are cut),
// and directory entries are never rolled back (the file log syncs the directory after each change).
#pragma once

#include "../core/config.hpp"

#if THINGWELL_HAS_POSIX

#include <cstddef>
#include <cstdint>
#include <string>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "file_ops.hpp"

namespace thingwell::store {

struct file_fault_plan {
  enum class fault { none, crash, disk_full };
  static constexpr std::uint64_t never = ~std::uint64_t{0};

  fault kind = fault::none;
  std::uint64_t at_write = never;  // 0-based index of the write or pwrite call that fails
  std::size_t keep_bytes = 0;      // bytes of that call that reach the file
  bool lose_unsynced = false;      // crash: cut every file back to its last synced size
  // With lose_unsynced the plan itself decides what a power cut keeps, so the kernel's fsync adds only
  // time: a test that runs thousands of crashes turns it off.
  bool real_sync = true;

  // State, for the test to read (and, for disk_full, to reset).
  std::uint64_t writes = 0;  // write/pwrite calls seen
  std::uint64_t syncs = 0;
  bool crashed = false;
  bool disk_full = false;

  // Open descriptors and what a power cut would leave of each (only appends are tracked).
  struct tracked {
    int fd = -1;
    std::string path;
    std::uint64_t synced = 0;
  };
  tracked files[64];
};

class faulty_file_ops {
 public:
  using mode = posix_file_ops::mode;

  explicit faulty_file_ops(file_fault_plan& plan) noexcept : plan_(&plan) {}

  result<int> open(const char* path, mode m) noexcept {
    if (plan_->crashed) return errc::storage_io;
    auto fd = inner_.open(path, m);
    if (fd && m != mode::read) track(*fd, path);
    return fd;
  }

  result<std::size_t> write(int fd, bytes_view data) noexcept {
    if (auto r = before_write(); !r) return r.error();
    if (plan_->writes++ == plan_->at_write) return fault(fd, data, nullptr);
    return inner_.write(fd, data);
  }

  // A full disk does not stop an overwrite of blocks a file already has: only appends see ENOSPC.
  result<std::size_t> pwrite(int fd, bytes_view data, std::uint64_t offset) noexcept {
    if (plan_->crashed) return errc::storage_io;
    if (plan_->writes++ == plan_->at_write) return fault(fd, data, &offset);
    return inner_.pwrite(fd, data, offset);
  }

  result<std::size_t> pread(int fd, mutable_bytes out, std::uint64_t offset) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.pread(fd, out, offset);
  }
  result<void> sync(int fd) noexcept {
    if (plan_->crashed) return errc::storage_io;
    ++plan_->syncs;
    auto r = plan_->real_sync ? inner_.sync(fd) : success();
    if (r)
      if (auto* t = find(fd))
        if (auto s = inner_.size(fd)) t->synced = *s;
    return r;
  }
  result<void> truncate(int fd, std::uint64_t size) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.truncate(fd, size);
  }
  result<std::uint64_t> size(int fd) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.size(fd);
  }
  result<void> close(int fd) noexcept {
    if (auto* t = find(fd)) t->fd = -1;  // forgotten: a closed file was synced or is not needed
    return inner_.close(fd);            // closing is allowed after a crash: the test must not leak fds
  }
  result<void> rename(const char* from, const char* to) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.rename(from, to);
  }
  result<void> unlink(const char* path) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.unlink(path);
  }
  result<void> make_directory(const char* path) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.make_directory(path);
  }
  result<void> sync_directory(const char* path) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return plan_->real_sync ? inner_.sync_directory(path) : success();
  }
  template <class F>
  result<void> list(const char* path, F&& on_name) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_.list(path, static_cast<F&&>(on_name));
  }
  int last_errno() const noexcept { return inner_.last_errno(); }

 private:
  result<void> before_write() noexcept {
    if (plan_->crashed) return errc::storage_io;
    if (plan_->disk_full) {
      ++plan_->writes;
      return errc::storage_full;
    }
    return success();
  }

  result<std::size_t> fault(int fd, bytes_view data, const std::uint64_t* offset) noexcept {
    const std::size_t keep = plan_->keep_bytes < data.size() ? plan_->keep_bytes : data.size();
    if (keep != 0) {
      if (offset != nullptr)
        (void)inner_.pwrite(fd, data.first(keep), *offset);
      else
        (void)inner_.write(fd, data.first(keep));
    }
    if (plan_->kind == file_fault_plan::fault::disk_full) {
      plan_->disk_full = true;
      // Like the kernel: a write that managed some bytes reports them; the next one reports ENOSPC.
      if (keep != 0) return keep;
      return errc::storage_full;
    }
    plan_->crashed = true;
    if (plan_->lose_unsynced) lose_unsynced();
    return errc::storage_io;
  }

  void lose_unsynced() noexcept {
    for (auto& t : plan_->files) {
      if (t.fd < 0) continue;
      if (auto s = inner_.size(t.fd); s && *s > t.synced) (void)inner_.truncate(t.fd, t.synced);
    }
  }

  void track(int fd, const char* path) noexcept {
    for (auto& t : plan_->files) {
      if (t.fd >= 0) continue;
      t.fd = fd;
      t.path = path;
      auto s = inner_.size(fd);
      t.synced = s ? *s : 0;
      return;
    }
  }
  file_fault_plan::tracked* find(int fd) noexcept {
    for (auto& t : plan_->files)
      if (t.fd == fd) return &t;
    return nullptr;
  }

  posix_file_ops inner_;
  file_fault_plan* plan_;
};

}  // namespace thingwell::store

#endif  // THINGWELL_HAS_POSIX
