// thingwell — a persistence policy for Linux (and other POSIX) devices and gateways: a directory of files.
//
//   <dir>/q-<16 hex digits>.log   queue segments, records (record_format.hpp) back to back, oldest first
//   <dir>/head                    the durable head: two 32-byte slots, written alternately in place
//   <dir>/k-<hex of key>.rec      one file per key, replaced atomically (temp file, sync, rename, sync dir)
//
// Queue. Appends go into a write buffer and reach the newest segment in one write(2) at commit time (or
// when the buffer fills); commit() then syncs the segment (fdatasync) and, when records were popped, the
// head file. A segment is closed at segment_bytes and a new one started; once every record of a closed
// segment is behind the durable head, the segment file is removed. Popping never rewrites a segment.
//
// Why a separate head file rather than "popped" markers in the segments: recording a pop must not need
// free space, or a full disk could never be drained. The head file is written in place; a torn write
// damages at most one of its two slots (512 bytes apart, so never in the same sector) and the other slot
// still holds the previous head.
//
// Recovery (open). Every segment is read and every record checked. A torn tail (an interrupted last write,
// or a page cache lost in a power cut) is cut off; damage in the middle is passed over by searching for
// the next valid header, and counted. See stats(). Half-written temporary key files are removed.
//
// Errors. A full disk is errc::storage_full; the records and values already stored are untouched (a
// partial write is truncated away, buffered records stay buffered and a later commit() retries). A failed
// fsync is errc::storage_io and leaves the log unusable until it is reopened: after a failed fsync Linux
// may already have dropped the dirty pages, so retrying could report success for data that is gone.
//
// Memory: the write buffer, a read cache and one key record buffer, all sized at open; a table of
// segments bounded by max_segments. close() commits; the destructor only releases the files.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_HAS_POSIX

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "file_ops.hpp"
#include "persistence.hpp"
#include "record_format.hpp"

namespace thingwell::store {

struct file_log_config {
  std::size_t segment_bytes = std::size_t{4} << 20;  // a segment is closed once it would grow past this
  std::size_t max_segments = 64;                     // with segment_bytes: the bound on queued data
  std::size_t max_record_bytes = 64 * 1024;
  std::size_t max_key_bytes = 64;
  std::size_t max_value_bytes = 16 * 1024;
  std::size_t write_buffer_bytes = 64 * 1024;  // raised to hold at least one largest record
  std::size_t read_cache_bytes = 64 * 1024;
  commit_policy commit{};
};

template <class Ops = posix_file_ops>
class basic_file_log {
 public:
  using mode = typename Ops::mode;

  static result<basic_file_log> open(std::string_view directory, const file_log_config& config = {}, Ops ops = {}) {
    basic_file_log log(directory, config, std::move(ops));
    if (auto r = log.recover(); !r) return r.error();
    return log;
  }

  basic_file_log(basic_file_log&&) noexcept = default;
  basic_file_log& operator=(basic_file_log&&) = delete;
  ~basic_file_log() { release(); }

  // Commits, then releases the files. The log is unusable afterwards.
  result<void> close() {
    auto r = commit();
    release();
    failed_ = true;
    return r;
  }

  // ---- keyed records
  result<void> put(std::string_view key, bytes_view value) {
    if (auto r = usable(); !r) return r;
    if (!key_ok(key)) return errc::invalid_argument;
    if (value.size() > config_.max_value_bytes) return errc::storage_full;
    const std::string path = key_path(key, ".rec");
    const std::string temp = key_path(key, ".tmp");
    byte* out = key_buffer_.data();
    encode_record_header(out, record_kind::put, 0, as_bytes(key), value);
    std::memcpy(out + record_header_size, key.data(), key.size());
    if (!value.empty()) std::memcpy(out + record_header_size + key.size(), value.data(), value.size());
    const bytes_view record{out, record_header_size + key.size() + value.size()};

    auto fd = ops_.open(temp.c_str(), mode::create_new);
    if (!fd) return fd.error();
    auto written = write_all(*fd, record);
    auto synced = written ? ops_.sync(*fd) : result<void>{written.error()};
    (void)ops_.close(*fd);
    if (!synced) {
      (void)ops_.unlink(temp.c_str());
      return synced.error();
    }
    if (auto r = ops_.rename(temp.c_str(), path.c_str()); !r) {
      (void)ops_.unlink(temp.c_str());
      return r;
    }
    return ops_.sync_directory(directory_.c_str());
  }

  result<std::size_t> get(std::string_view key, mutable_bytes out) {
    if (auto r = usable(); !r) return r.error();
    if (!key_ok(key)) return errc::invalid_argument;
    const std::string path = key_path(key, ".rec");
    auto fd = ops_.open(path.c_str(), mode::read);
    if (!fd) return fd.error();
    auto n = ops_.pread(*fd, key_buffer_, 0);
    (void)ops_.close(*fd);
    if (!n) return n.error();
    const bytes_view raw{key_buffer_.data(), *n};
    const auto h = decode_record_header(raw, key_buffer_.size() - record_header_size);
    if (!h || h->kind != record_kind::put || h->key_length != key.size() || raw.size() != h->total_size() ||
        !header_crc_matches(raw, raw.subspan(record_header_size, key.size())) ||
        as_string(raw.subspan(record_header_size, key.size())) != key) {
      ++stats_.damaged_keys;
      return errc::storage_corrupt;
    }
    const bytes_view value = raw.subspan(record_header_size + key.size());
    if (crc32_of(value) != h->value_crc) {
      ++stats_.damaged_keys;
      return errc::storage_corrupt;
    }
    if (value.size() > out.size()) return errc::buffer_too_small;
    if (!value.empty()) std::memcpy(out.data(), value.data(), value.size());
    return value.size();
  }

  result<void> erase(std::string_view key) {
    if (auto r = usable(); !r) return r;
    if (!key_ok(key)) return errc::invalid_argument;
    const std::string path = key_path(key, ".rec");
    if (auto r = ops_.unlink(path.c_str()); !r) return r.error() == errc::not_found ? success() : r;
    return ops_.sync_directory(directory_.c_str());
  }

  // ---- queue
  result<std::uint64_t> append(bytes_view record) noexcept {
    if (auto r = usable(); !r) return r.error();
    if (record.size() > config_.max_record_bytes) return errc::storage_full;
    const std::size_t total = record_header_size + record.size();
    if (active_size() != 0 && active_size() + total > config_.segment_bytes)
      if (auto r = rotate(); !r) return r.error();
    if (buffer_used_ + total > buffer_.size())
      if (auto r = flush(); !r) return r.error();

    const std::size_t before = buffer_used_;
    const std::uint64_t sequence = next_sequence_;
    encode_record_header(buffer_.data() + before, record_kind::data, sequence, {}, record);
    if (!record.empty()) std::memcpy(buffer_.data() + before + record_header_size, record.data(), record.size());
    buffer_used_ += total;
    ++next_sequence_;
    ++records_;
    bytes_ += record.size();

    tracker_.note(record.size());
    if (tracker_.due()) {
      if (auto r = commit(); !r) {
        if (!failed_ && buffer_used_ == before + total) {
          // Not written: take the record back, so an error means "not appended".
          buffer_used_ = before;
          --next_sequence_;
          --records_;
          bytes_ -= record.size();
        }
        return r.error();
      }
    }
    return sequence;
  }

  result<record_info> peek(mutable_bytes out) noexcept {
    if (auto r = usable(); !r) return r.error();
    for (;;) {
      auto found = locate_head();
      if (!found) return found.error();
      const record_header& h = found->header;
      if (h.length > out.size()) return errc::buffer_too_small;
      if (auto r = read_exact(read_index_, found->offset + record_header_size, out.first(h.length)); !r)
        return r.error();
      if (crc32_of(out.first(h.length)) == h.value_crc) return record_info{h.sequence, h.length};
      ++stats_.damaged_records;  // passed over, never handed out
      consume(*found);
    }
  }

  result<void> pop() noexcept {
    if (auto r = usable(); !r) return r;
    auto found = locate_head();
    if (!found) return found.error();
    consume(*found);
    tracker_.note(0);
    if (tracker_.due()) return commit();
    return success();
  }

  std::size_t records() const noexcept { return records_; }
  std::size_t bytes() const noexcept { return bytes_; }

  result<void> commit() noexcept {
    if (auto r = usable(); !r) return r;
    if (auto r = flush(); !r) return r;
    if (unsynced_) {
      if (!ops_.sync(write_fd_.fd)) return fail();
      unsynced_ = false;
    }
    if (head_ != committed_head_) {
      if (auto r = write_head(); !r) return r;
      committed_head_ = head_;
    }
    tracker_.committed();
    return remove_consumed_segments();
  }

  result<void> commit(time_point now) noexcept {
    if (!tracker_.due_at(now)) return success();
    if (auto r = commit(); !r) return r;
    tracker_.committed(now);
    return success();
  }

  // ---- observability
  const recovery_stats& stats() const noexcept { return stats_; }
  std::size_t segments() const noexcept { return segments_.size(); }
  std::uint64_t next_sequence() const noexcept { return next_sequence_; }
  const Ops& ops() const noexcept { return ops_; }

 private:
  struct segment {
    std::uint64_t id;
    std::uint64_t size;  // bytes in the file (the newest segment's buffered bytes come on top)
  };
  struct located {
    std::uint64_t offset;
    record_header header;
  };
  // A descriptor that moves with the log and is closed once.
  struct descriptor {
    int fd = -1;
    std::uint64_t id = 0;  // for the read descriptor: which segment it is open on
    descriptor() = default;
    descriptor(descriptor&& o) noexcept : fd(std::exchange(o.fd, -1)), id(o.id) {}
    descriptor& operator=(descriptor&&) = delete;
  };

  static constexpr std::size_t head_slot_size = 32;
  static constexpr std::uint64_t head_slot_stride = 512;

  basic_file_log(std::string_view directory, const file_log_config& config, Ops ops)
      : directory_(directory), config_(config), ops_(std::move(ops)), tracker_(config.commit) {
    buffer_.resize(std::max(config_.write_buffer_bytes, config_.max_record_bytes + record_header_size));
    cache_.resize(std::max<std::size_t>(config_.read_cache_bytes, 4096));
    key_buffer_.resize(record_header_size + config_.max_key_bytes + config_.max_value_bytes);
  }

  void release() noexcept {
    for (descriptor* d : {&write_fd_, &read_fd_, &head_fd_})
      if (d->fd >= 0) (void)ops_.close(std::exchange(d->fd, -1));
  }

  result<void> usable() const noexcept {
    if (failed_) return errc::storage_io;
    return success();
  }
  std::error_code fail() noexcept {
    failed_ = true;
    return errc::storage_io;
  }

  bool key_ok(std::string_view key) const noexcept { return !key.empty() && key.size() <= config_.max_key_bytes; }

  // Keys may hold any bytes, so the file name spells them in hex.
  std::string key_path(std::string_view key, const char* suffix) const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string p = directory_ + "/k-";
    for (char c : key) {
      const auto b = static_cast<unsigned char>(c);
      p += digits[b >> 4];
      p += digits[b & 15];
    }
    return p + suffix;
  }
  std::string segment_path(std::uint64_t id) const {
    char name[32];
    std::snprintf(name, sizeof name, "/q-%016llx.log", static_cast<unsigned long long>(id));
    return directory_ + name;
  }
  static std::optional<std::uint64_t> segment_id(const char* name) noexcept {
    const std::string_view n(name);
    if (n.size() != 2 + 16 + 4 || n.substr(0, 2) != "q-" || n.substr(18) != ".log") return std::nullopt;
    std::uint64_t id = 0;
    for (char c : n.substr(2, 16)) {
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else return std::nullopt;
      id = (id << 4) | static_cast<std::uint64_t>(d);
    }
    return id;
  }

  result<void> write_all(int fd, bytes_view data) noexcept {
    while (!data.empty()) {
      auto n = ops_.write(fd, data);
      if (!n) return n.error();
      if (*n == 0) return errc::storage_io;
      data = data.subspan(*n);
    }
    return success();
  }

  // ---- recovery
  result<void> recover() {
    if (auto r = ops_.make_directory(directory_.c_str()); !r) return r;
    std::vector<std::uint64_t> ids;
    std::vector<std::string> leftovers;
    auto listed = ops_.list(directory_.c_str(), [&](const char* name) {
      if (auto id = segment_id(name)) ids.push_back(*id);
      const std::string_view n(name);
      if (n.size() > 4 && n.substr(n.size() - 4) == ".tmp") leftovers.push_back(directory_ + "/" + std::string(n));
    });
    if (!listed) return listed;
    for (const std::string& path : leftovers) {
      ++stats_.leftover_files;
      (void)ops_.unlink(path.c_str());
    }
    std::sort(ids.begin(), ids.end());
    segments_.reserve(std::max(config_.max_segments, ids.size()));

    if (auto r = read_head(); !r) return r;
    committed_head_ = head_;
    scan_expected_ = head_;

    if (ids.empty()) {
      if (auto r = start_segment(1); !r) return r;
    } else {
      for (std::uint64_t id : ids) segments_.push_back(segment{id, 0});
      auto fd = ops_.open(segment_path(ids.back()).c_str(), mode::append);
      if (!fd) return fd.error();
      write_fd_.fd = *fd;
      for (std::size_t i = 0; i < segments_.size(); ++i)
        if (auto r = scan_segment(i); !r) return r;
    }
    if (head_ > next_sequence_) next_sequence_ = head_;
    cache_length_ = 0;
    read_index_ = 0;
    read_offset_ = 0;
    return success();
  }

  result<void> read_head() noexcept {
    auto fd = ops_.open((directory_ + "/head").c_str(), mode::read_write);
    if (!fd) return fd.error();
    head_fd_.fd = *fd;
    auto size = ops_.size(head_fd_.fd);
    if (!size) return size.error();
    if (*size == 0)  // just created: its name must survive a power cut before the first head is written
      if (auto r = ops_.sync_directory(directory_.c_str()); !r) return r;
    bool found = false;
    for (std::uint64_t slot = 0; slot < 2; ++slot) {
      byte raw[head_slot_size];
      auto n = ops_.pread(head_fd_.fd, raw, slot * head_slot_stride);
      if (!n) return n.error();
      if (*n != head_slot_size || crc32_of({raw, 24}) != detail::get_le32(raw + 24)) continue;
      const std::uint64_t counter = detail::get_le64(raw);
      if (found && counter <= head_counter_) continue;
      found = true;
      head_counter_ = counter;
      head_ = detail::get_le64(raw + 8);
      next_sequence_ = detail::get_le64(raw + 16);
    }
    return success();
  }

  result<void> write_head() noexcept {
    byte raw[head_slot_size]{};
    const std::uint64_t counter = head_counter_ + 1;
    detail::put_le64(raw, counter);
    detail::put_le64(raw + 8, head_);
    detail::put_le64(raw + 16, next_sequence_);
    detail::put_le32(raw + 24, crc32_of({raw, 24}));
    auto n = ops_.pwrite(head_fd_.fd, raw, (counter % 2) * head_slot_stride);
    if (!n) return n.error();
    if (*n != head_slot_size) return errc::storage_io;
    if (!ops_.sync(head_fd_.fd)) return fail();
    head_counter_ = counter;
    return success();
  }

  // Counts what segment i holds, cuts a torn tail, and moves next_sequence_ past its records.
  result<void> scan_segment(std::size_t i) {
    auto fd = fd_for(i);
    if (!fd) return fd.error();
    auto size = ops_.size(*fd);
    if (!size) return size.error();
    segments_[i].size = *size;
    const bool newest = i + 1 == segments_.size();
    if (newest) flushed_ = *size;
    std::uint64_t at = 0;
    std::uint64_t valid_end = 0;
    for (;;) {
      std::uint64_t skipped = 0;
      auto found = next_record(i, at, skipped);
      if (!found) return found.error();
      if (!*found) break;
      stats_.skipped_bytes += skipped;
      const located& r = **found;
      const std::uint64_t seq = r.header.sequence;
      if (seq + 1 > next_sequence_) next_sequence_ = seq + 1;
      if (seq >= head_) {
        auto ok = value_ok(i, r);
        if (!ok) return ok.error();
        if (!*ok) ++stats_.damaged_records;
        if (seq > scan_expected_) stats_.lost_records += seq - scan_expected_;
        scan_expected_ = seq + 1;
        ++records_;
        bytes_ += r.header.length;
      }
      at = r.offset + r.header.total_size();
      valid_end = at;
    }
    if (valid_end < segments_[i].size) {
      // Nothing valid after valid_end: an interrupted write. Cut it, so appends follow valid data.
      stats_.torn_tail_bytes += segments_[i].size - valid_end;
      int wfd = newest ? write_fd_.fd : -1;
      if (wfd < 0) {
        auto w = ops_.open(segment_path(segments_[i].id).c_str(), mode::append);
        if (!w) return w.error();
        wfd = *w;
      }
      auto t = ops_.truncate(wfd, valid_end);
      auto s = t ? ops_.sync(wfd) : t;
      if (wfd != write_fd_.fd) (void)ops_.close(wfd);
      if (!s) return s;
      segments_[i].size = valid_end;
      if (newest) flushed_ = valid_end;
      cache_length_ = 0;
    }
    return success();
  }

  result<bool> value_ok(std::size_t i, const located& r) noexcept {
    crc32 c;
    std::uint64_t at = r.offset + record_header_size;
    std::size_t left = r.header.length;
    byte chunk[4096];
    while (left != 0) {
      const std::size_t n = std::min(left, sizeof chunk);
      if (auto rd = read_exact(i, at, {chunk, n}); !rd) return rd.error();
      c.update({chunk, n});
      at += n;
      left -= n;
    }
    return c.value() == r.header.value_crc;
  }

  // ---- segments
  std::uint64_t segment_end(std::size_t i) const noexcept {
    return i + 1 == segments_.size() ? flushed_ + buffer_used_ : segments_[i].size;
  }
  std::uint64_t active_size() const noexcept { return flushed_ + buffer_used_; }

  result<void> start_segment(std::uint64_t id) {
    auto fd = ops_.open(segment_path(id).c_str(), mode::append);
    if (!fd) return fd.error();
    if (auto r = ops_.sync_directory(directory_.c_str()); !r) {
      (void)ops_.close(*fd);
      (void)ops_.unlink(segment_path(id).c_str());
      return r;
    }
    if (write_fd_.fd >= 0) (void)ops_.close(write_fd_.fd);
    write_fd_.fd = *fd;
    segments_.push_back(segment{id, 0});
    flushed_ = 0;
    return success();
  }

  result<void> rotate() noexcept {
    if (auto r = commit(); !r) return r;
    if (segments_.size() >= config_.max_segments) return errc::storage_full;
    segments_.back().size = flushed_;
    return start_segment(segments_.back().id + 1);
  }

  // Writes the buffer to the newest segment. On failure the file is cut back to where it was, so it ends
  // on a record boundary, and the buffer is kept for the next attempt.
  result<void> flush() noexcept {
    if (buffer_used_ == 0) return success();
    if (auto r = write_all(write_fd_.fd, {buffer_.data(), buffer_used_}); !r) {
      if (!ops_.truncate(write_fd_.fd, flushed_)) return fail();
      return r;
    }
    flushed_ += buffer_used_;
    segments_.back().size = flushed_;
    buffer_used_ = 0;
    unsynced_ = true;
    return success();
  }

  // Segments before the reader hold nothing at or after the durable head.
  result<void> remove_consumed_segments() noexcept {
    std::size_t n = 0;
    while (n < read_index_ && n + 1 < segments_.size()) ++n;
    if (n == 0) return success();
    for (std::size_t i = 0; i < n; ++i) {
      if (read_fd_.fd >= 0 && read_fd_.id == segments_[i].id) (void)ops_.close(std::exchange(read_fd_.fd, -1));
      if (auto r = ops_.unlink(segment_path(segments_[i].id).c_str()); !r && r.error() != errc::not_found) return r;
    }
    segments_.erase(segments_.begin(), segments_.begin() + static_cast<std::ptrdiff_t>(n));
    read_index_ -= n;
    cache_length_ = 0;
    return success();
  }

  // ---- reading
  result<int> fd_for(std::size_t i) noexcept {
    if (i + 1 == segments_.size()) return write_fd_.fd;
    if (read_fd_.fd >= 0 && read_fd_.id == segments_[i].id) return read_fd_.fd;
    if (read_fd_.fd >= 0) (void)ops_.close(std::exchange(read_fd_.fd, -1));
    auto fd = ops_.open(segment_path(segments_[i].id).c_str(), mode::read);
    if (!fd) return fd.error();
    read_fd_.fd = *fd;
    read_fd_.id = segments_[i].id;
    return *fd;
  }

  // Reads [at, at + out.size()) of segment i, which must lie within segment_end(i): from the newest
  // segment's write buffer where the bytes are still there, from the read cache, or from the file.
  result<void> read_exact(std::size_t i, std::uint64_t at, mutable_bytes out) noexcept {
    const bool newest = i + 1 == segments_.size();
    const std::uint64_t on_disk = newest ? flushed_ : segments_[i].size;
    if (newest && at + out.size() > on_disk) {
      const std::size_t from_disk = at < on_disk ? static_cast<std::size_t>(on_disk - at) : 0;
      const std::size_t buffer_at = static_cast<std::size_t>(at + from_disk - on_disk);
      std::memcpy(out.data() + from_disk, buffer_.data() + buffer_at, out.size() - from_disk);
      out = out.first(from_disk);
      if (out.empty()) return success();
    }
    const std::uint64_t id = segments_[i].id;
    if (cache_length_ != 0 && cache_id_ == id && at >= cache_offset_ && at + out.size() <= cache_offset_ + cache_length_) {
      std::memcpy(out.data(), cache_.data() + (at - cache_offset_), out.size());
      return success();
    }
    auto fd = fd_for(i);
    if (!fd) return fd.error();
    if (out.size() >= cache_.size()) return pread_exact(*fd, out, at);
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(cache_.size(), on_disk - at));
    cache_length_ = 0;
    if (auto r = pread_exact(*fd, {cache_.data(), want}, at); !r) return r;
    cache_id_ = id;
    cache_offset_ = at;
    cache_length_ = want;
    std::memcpy(out.data(), cache_.data(), out.size());
    return success();
  }

  result<void> pread_exact(int fd, mutable_bytes out, std::uint64_t at) noexcept {
    while (!out.empty()) {
      auto n = ops_.pread(fd, out, at);
      if (!n) return n.error();
      if (*n == 0) return errc::storage_io;  // shorter than the log believed: someone truncated it
      out = out.subspan(*n);
      at += *n;
    }
    return success();
  }

  // The record at `at` in segment i, or the next valid one after damage (the bytes passed over are added
  // to `skipped`); nullopt when nothing valid follows.
  result<std::optional<located>> next_record(std::size_t i, std::uint64_t at, std::uint64_t& skipped) noexcept {
    const std::uint64_t end = segment_end(i);
    byte raw[record_header_size];
    for (std::uint64_t p = at; p + record_header_size <= end; ++p) {
      if (auto r = read_exact(i, p, raw); !r) return r.error();
      const auto h = decode_keyless_header(raw, static_cast<std::size_t>(std::min<std::uint64_t>(
                                                    end - p - record_header_size, config_.max_record_bytes)));
      if (h && h->kind == record_kind::data) {
        skipped += p - at;
        return std::optional<located>{located{p, *h}};
      }
    }
    return std::optional<located>{};
  }

  result<located> locate_head() noexcept {
    while (read_index_ < segments_.size()) {
      std::uint64_t skipped = 0;
      auto found = next_record(read_index_, read_offset_, skipped);
      if (!found) return found.error();
      if (!*found) {
        if (read_index_ + 1 == segments_.size()) break;
        ++read_index_;
        read_offset_ = 0;
        continue;
      }
      const located& r = **found;
      if (r.header.sequence >= head_) {
        read_offset_ = r.offset;
        return r;
      }
      read_offset_ = r.offset + r.header.total_size();
    }
    records_ = bytes_ = 0;  // the end of the log: nothing more can be delivered, whatever was counted
    return errc::not_found;
  }

  void consume(const located& r) noexcept {
    head_ = r.header.sequence + 1;
    read_offset_ = r.offset + r.header.total_size();
    if (records_ != 0) --records_;
    bytes_ = bytes_ >= r.header.length ? bytes_ - r.header.length : 0;
  }

  std::string directory_;
  file_log_config config_;
  Ops ops_;
  detail::commit_tracker tracker_;
  recovery_stats stats_{};
  bool failed_ = false;

  std::vector<segment> segments_;
  descriptor write_fd_;  // the newest segment, open for appending and reading
  descriptor read_fd_;   // an older segment the reader is in
  descriptor head_fd_;
  std::uint64_t head_counter_ = 0;

  std::vector<byte> buffer_;  // appended records not yet written
  std::size_t buffer_used_ = 0;
  std::uint64_t flushed_ = 0;  // bytes of the newest segment in its file
  bool unsynced_ = false;

  std::vector<byte> cache_;  // read-ahead of one segment
  std::uint64_t cache_id_ = 0;
  std::uint64_t cache_offset_ = 0;
  std::size_t cache_length_ = 0;

  std::vector<byte> key_buffer_;

  std::size_t read_index_ = 0;  // where the search for the oldest queued record resumes
  std::uint64_t read_offset_ = 0;
  std::uint64_t head_ = 0;  // sequence of the oldest record not popped
  std::uint64_t committed_head_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t scan_expected_ = 0;  // recovery: the next sequence number a scan expects
  std::size_t records_ = 0;
  std::size_t bytes_ = 0;
};

using file_log = basic_file_log<>;

}  // namespace thingwell::store

#endif  // THINGWELL_HAS_POSIX
