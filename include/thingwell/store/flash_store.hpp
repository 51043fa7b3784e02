// thingwell — a persistence policy for raw NOR flash: a log-structured store with no heap and no OS.
//
// Layout. The region is a ring of erase blocks written one after another. Every block in use starts with
// a block_start record numbering its place in the log; records (record_format.hpp) follow back to back
// and never cross a block. Queue records, head markers ("everything below sequence H is consumed") and
// keyed records (put / erase tombstone) share the one log, so appending, popping and replacing a value
// are all a program of fresh cells: nothing is ever rewritten in place.
//
// Atomicity. A record's value is programmed before its header, and the header carries the checksums:
// power lost anywhere in between leaves either a complete record or an invalid header, and an invalid
// header is treated as the end of what was written. A put therefore either happened or did not.
//
// Space and wear. A new block is taken in physical order after the newest, so every block is erased
// once per trip around the ring: wear levels itself without bookkeeping. When only one free block is left
// the oldest block is reclaimed: its live keyed records and a head marker are copied forward, then it is
// erased. It can be reclaimed only once every queue record in it has been popped; until then appends fail
// with errc::storage_full (the caller's overflow policy decides what to drop). The last free block is kept
// for that copying, so reclaiming never runs out of room. The bound that guarantees it (every key at its
// largest, plus a marker, fits in one block) is checked by mount().
//
// Durability. Programs are durable when they return, so append() and put() are durable at once; pops are
// recorded by a head marker written by commit() (or automatically by the commit_policy). After a power
// loss, records popped since the last marker come back.
//
// RAM. Per block: its log number and newest queue sequence; per key slot: where its newest record is.
// flash_store<Flash, Blocks, Keys> holds those tables inline; basic_flash_store<Flash> is the size-erased
// code that works on them. The flash device is used by reference and must outlive the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "../core/bytes.hpp"
#include "../core/clock.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "flash.hpp"
#include "persistence.hpp"
#include "record_format.hpp"

namespace thingwell::store {

struct flash_store_config {
  std::size_t max_key_bytes = 32;
  std::size_t max_value_bytes = 128;
  commit_policy commit{};
};

template <flash_device Flash>
class basic_flash_store {
 public:
  struct block_info {
    std::uint64_t number = 0;       // place in the log, from 1; 0: the block is free
    std::uint64_t newest_data = 0;  // sequence of its newest queue record, when has_data
    bool has_data = false;
    bool erased = false;  // free and known to be all 0xFF: it can be used without another erase
  };
  struct key_slot {
    std::uint32_t address = 0;  // of the newest put record of this key
    std::uint32_t hash = 0;     // of the key, to skip most flash reads in a lookup
    std::uint8_t key_length = 0;  // 0: the slot is free
    bool damaged = false;         // the value failed its checksum at mount
  };

  basic_flash_store(const basic_flash_store&) = delete;
  basic_flash_store& operator=(const basic_flash_store&) = delete;

  // Reads the whole region and rebuilds the RAM tables; formats an empty (or unrecognisable) region.
  // Must succeed before any other call.
  result<void> mount() noexcept {
    reset();
    const std::uint32_t count = flash_->block_count();
    block_size_ = flash_->block_size();
    if (count < 3 || count > blocks_.size() || block_size_ < 4 * header_bytes || config_.max_key_bytes == 0 ||
        config_.max_key_bytes > 255)
      return errc::invalid_argument;
    // Every key at its largest plus a head marker must fit in one block, or reclaiming could run out of room.
    const std::size_t key_record = header_bytes + config_.max_key_bytes + config_.max_value_bytes;
    if (keys_.size() * key_record + marker_size > block_size_ - header_bytes) return errc::invalid_argument;
    block_count_ = count;

    for (std::uint32_t b = 0; b < block_count_; ++b) {
      byte raw[header_bytes];
      if (!flash_->read(address(b, 0), raw)) return fail();
      const auto h = decode_keyless_header(raw, 0);
      if (h && h->kind == record_kind::block_start && h->sequence != 0) {
        blocks_[b].number = h->sequence;
        if (h->sequence >= next_block_number_) next_block_number_ = h->sequence + 1;
      }
    }
    if (used_blocks() == 0) {
      mounted_ = true;
      if (auto r = open_block(true, 0); !r) return r;
      read_block_ = active_;
      read_offset_ = header_bytes;
      return success();
    }

    // Pass 1: the head, the next sequence number, the keys and each block's newest queue record.
    bool first = true;
    for (std::uint32_t b = oldest(); b != npos; b = next_in_log(b)) {
      std::uint32_t end = 0;
      const bool ok = scan_block(b, end, [&](const record_header& h, std::uint32_t at, bool value_ok) {
        switch (h.kind) {
          case record_kind::data:
            blocks_[b].has_data = true;
            blocks_[b].newest_data = h.sequence;
            if (h.sequence + 1 > next_sequence_) next_sequence_ = h.sequence + 1;
            if (first) {
              // The oldest record still in flash: everything before it was consumed and reclaimed.
              if (h.sequence > head_) head_ = h.sequence;
              first = false;
            }
            break;
          case record_kind::head: {
            if (h.sequence > head_) head_ = h.sequence;
            byte next[8];
            if (value_ok && h.value_length() == 8 && flash_->read(at + header_bytes, next)) {
              const std::uint64_t n = detail::get_le64(next);
              if (n > next_sequence_) next_sequence_ = n;
            }
            break;
          }
          case record_kind::put: index_put(at, h, value_ok); break;
          case record_kind::erase: index_erase(at, h); break;
          case record_kind::block_start: break;
        }
      });
      if (!ok) return fail();
      active_ = b;
      write_offset_ = end;
    }
    if (head_ > next_sequence_) next_sequence_ = head_;
    committed_head_ = head_;

    // Pass 2: what is still queued, now that the head is known.
    std::uint64_t expected = head_;
    for (std::uint32_t b = oldest(); b != npos; b = next_in_log(b)) {
      std::uint32_t end = 0;
      const bool ok = scan_block(b, end, [&](const record_header& h, std::uint32_t, bool value_ok) {
        if (h.kind != record_kind::data || h.sequence < head_) return;
        ++records_;
        bytes_ += h.length;
        if (!value_ok) ++stats_.damaged_records;
        if (h.sequence > expected) stats_.lost_records += h.sequence - expected;
        expected = h.sequence + 1;
      }, true);
      if (!ok) return fail();
    }

    // A torn write leaves programmed bytes after the last valid record. Closing the block would waste it
    // (and, after a power cut in the middle of reclaiming, leave no free block at all), so writing goes
    // on after the torn bytes instead, once they are programmed to 0x00: zeros never decode as a header
    // nor read as erased, so a later scan passes over them and finds what follows.
    if (auto r = seal_torn_tail(); !r) return r;
    read_block_ = oldest();
    read_offset_ = header_bytes;
    mounted_ = true;
    return success();
  }

  // ---- keyed records
  result<void> put(std::string_view key, bytes_view value) noexcept {
    if (auto r = usable(); !r) return r;
    if (key.empty() || key.size() > config_.max_key_bytes) return errc::invalid_argument;
    if (value.size() > config_.max_value_bytes) return errc::storage_full;
    std::size_t slot = find(key);
    if (slot == npos_slot) {
      slot = free_slot();
      if (slot == npos_slot) return errc::storage_full;
    }
    auto at = write_record(record_kind::put, 0, as_bytes(key), value, false);
    if (!at) return at.error();
    keys_[slot] = key_slot{*at, hash(as_bytes(key)), static_cast<std::uint8_t>(key.size()), false};
    return success();
  }

  result<std::size_t> get(std::string_view key, mutable_bytes out) noexcept {
    if (auto r = usable(); !r) return r.error();
    if (key.empty() || key.size() > config_.max_key_bytes) return errc::invalid_argument;
    const std::size_t slot = find(key);
    if (slot == npos_slot) return errc::not_found;
    if (keys_[slot].damaged) return errc::storage_corrupt;
    byte raw[header_bytes];
    if (!flash_->read(keys_[slot].address, raw)) return fail();
    const auto h = decode_record_header(raw, block_size_);
    if (!h) return errc::storage_corrupt;
    const std::size_t n = h->value_length();
    if (n > out.size()) return errc::buffer_too_small;
    if (!flash_->read(keys_[slot].address + header_bytes + h->key_length, out.first(n))) return fail();
    if (crc32_of(out.first(n)) != h->value_crc) return errc::storage_corrupt;
    return n;
  }

  result<void> erase(std::string_view key) noexcept {
    if (auto r = usable(); !r) return r;
    if (key.empty() || key.size() > config_.max_key_bytes) return errc::invalid_argument;
    const std::size_t slot = find(key);
    if (slot == npos_slot) return success();
    if (auto at = write_record(record_kind::erase, 0, as_bytes(key), {}, false); !at) return at.error();
    keys_[slot] = key_slot{};
    return success();
  }

  // ---- queue
  result<std::uint64_t> append(bytes_view record) noexcept {
    if (auto r = usable(); !r) return r.error();
    if (record.size() > max_record_bytes()) return errc::storage_full;
    const std::uint64_t sequence = next_sequence_;
    auto at = write_record(record_kind::data, sequence, {}, record, false);
    if (!at) return at.error();
    block_info& b = blocks_[*at / block_size_];
    b.has_data = true;
    b.newest_data = sequence;
    ++next_sequence_;
    ++records_;
    bytes_ += record.size();
    if (auto r = note_and_maybe_commit(record.size()); !r) return r.error();
    return sequence;
  }

  result<record_info> peek(mutable_bytes out) noexcept {
    if (auto r = usable(); !r) return r.error();
    for (;;) {
      auto found = locate_head();
      if (!found) return found.error();
      const record_header& h = found->header;
      if (h.length > out.size()) return errc::buffer_too_small;
      if (!flash_->read(found->address + header_bytes, out.first(h.length))) return fail();
      if (crc32_of(out.first(h.length)) == h.value_crc) return record_info{h.sequence, h.length};
      // Damaged since it was written: counted and passed over, never handed out.
      ++stats_.damaged_records;
      consume(*found);
    }
  }

  result<void> pop() noexcept {
    if (auto r = usable(); !r) return r;
    auto found = locate_head();
    if (!found) return found.error();
    consume(*found);
    return note_and_maybe_commit(0);
  }

  std::size_t records() const noexcept { return records_; }
  std::size_t bytes() const noexcept { return bytes_; }

  result<void> commit() noexcept {
    if (auto r = usable(); !r) return r;
    if (head_ != committed_head_) {
      // Like any write, a marker first tries to keep the reserve block free; only when nothing can be
      // reclaimed does it use the reserve, because a marker is what lets the oldest block be reclaimed.
      auto r = write_marker(false);
      if (!r && r.error() == errc::storage_full) r = write_marker(true);
      if (!r) return r;
    }
    tracker_.committed();
    return success();
  }
  result<void> commit(time_point now) noexcept {
    if (!tracker_.due_at(now)) return success();
    if (auto r = commit(); !r) return r;
    tracker_.committed(now);
    return success();
  }

  // ---- observability
  const recovery_stats& stats() const noexcept { return stats_; }
  std::size_t max_record_bytes() const noexcept { return block_size_ - 2 * header_bytes; }
  std::uint32_t free_blocks() const noexcept { return block_count_ - used_blocks(); }
  std::uint64_t next_sequence() const noexcept { return next_sequence_; }

 protected:
  basic_flash_store(Flash& flash, std::span<block_info> blocks, std::span<key_slot> keys,
                    const flash_store_config& config) noexcept
      : flash_(&flash), blocks_(blocks), keys_(keys), config_(config), tracker_(config.commit) {}
  ~basic_flash_store() = default;

 private:
  static constexpr std::uint32_t npos = ~std::uint32_t{0};
  static constexpr std::size_t npos_slot = ~std::size_t{0};
  static constexpr std::uint32_t header_bytes = static_cast<std::uint32_t>(record_header_size);
  static constexpr std::size_t marker_size = header_bytes + 8;

  struct located {
    std::uint32_t address;
    record_header header;
  };

  void reset() noexcept {
    for (block_info& b : blocks_) b = block_info{};
    for (key_slot& k : keys_) k = key_slot{};
    mounted_ = failed_ = false;
    block_count_ = 0;
    active_ = read_block_ = npos;
    write_offset_ = read_offset_ = 0;
    next_block_number_ = 1;
    head_ = committed_head_ = next_sequence_ = 0;
    records_ = bytes_ = 0;
    stats_ = recovery_stats{};
    tracker_ = detail::commit_tracker(config_.commit);
  }

  result<void> usable() const noexcept {
    if (failed_) return errc::storage_io;
    if (!mounted_) return errc::closed;
    return success();
  }
  // A device error leaves the RAM tables possibly out of step with the cells: only a new mount() is safe.
  std::error_code fail() noexcept {
    failed_ = true;
    return errc::storage_io;
  }

  std::uint32_t address(std::uint32_t block, std::uint32_t offset) const noexcept { return block * block_size_ + offset; }

  std::uint32_t used_blocks() const noexcept {
    std::uint32_t n = 0;
    for (std::uint32_t b = 0; b < block_count_; ++b) n += blocks_[b].number != 0 ? 1U : 0U;
    return n;
  }
  std::uint32_t oldest() const noexcept {
    std::uint32_t best = npos;
    for (std::uint32_t b = 0; b < block_count_; ++b)
      if (blocks_[b].number != 0 && (best == npos || blocks_[b].number < blocks_[best].number)) best = b;
    return best;
  }
  std::uint32_t next_in_log(std::uint32_t block) const noexcept {
    std::uint32_t best = npos;
    for (std::uint32_t b = 0; b < block_count_; ++b)
      if (blocks_[b].number > blocks_[block].number && (best == npos || blocks_[b].number < blocks_[best].number))
        best = b;
    return best;
  }

  // The record at `offset` of `block` (or the next valid one after damage), or nullopt at the end of what
  // was written. `skipped` receives the bytes passed over without a valid header.
  result<std::optional<located>> next_record(std::uint32_t block, std::uint32_t offset, std::uint64_t& skipped) noexcept {
    const std::uint32_t limit = block == active_ ? write_offset_ : block_size_;
    for (std::uint32_t at = offset; at + header_bytes <= limit; ++at) {
      byte raw[header_bytes];
      if (!flash_->read(address(block, at), raw)) return fail();
      if (at == offset && all_erased(raw)) return std::optional<located>{};  // nothing written from here on
      if (auto h = decode_record_header(raw, limit - at - header_bytes)) {
        byte key[255];
        if (!flash_->read(address(block, at) + header_bytes, {key, h->key_length})) return fail();
        if (header_crc_matches(raw, {key, h->key_length})) {
          skipped += at - offset;
          return std::optional<located>{located{address(block, at), *h}};
        }
      }
    }
    skipped += limit > offset ? limit - offset : 0;
    return std::optional<located>{};
  }

  template <class Visit>
  bool scan_block(std::uint32_t block, std::uint32_t& end, Visit&& visit, bool quiet = false) noexcept {
    std::uint32_t at = header_bytes;
    std::uint64_t skipped = 0;
    const std::uint32_t saved_active = active_;
    active_ = npos;  // while scanning, every block is read to its physical end
    for (;;) {
      auto found = next_record(block, at, skipped);
      if (!found) {
        active_ = saved_active;
        return false;
      }
      if (!*found) break;
      const located& r = **found;
      bool value_ok = true;
      if (r.header.kind != record_kind::block_start) {
        auto ok = value_crc_ok(r);
        if (!ok) {
          active_ = saved_active;
          return false;
        }
        value_ok = *ok;
        visit(r.header, r.address, value_ok);
        if (!value_ok && r.header.kind == record_kind::put && !quiet) ++stats_.damaged_keys;
      }
      at = r.address - address(block, 0) + static_cast<std::uint32_t>(r.header.total_size());
    }
    active_ = saved_active;
    if (!quiet) stats_.skipped_bytes += skipped;
    end = at;
    return true;
  }

  result<bool> value_crc_ok(const located& r) noexcept {
    crc32 c;
    std::uint32_t from = r.address + header_bytes + r.header.key_length;
    std::size_t left = r.header.value_length();
    byte chunk[64];
    while (left != 0) {
      const std::size_t n = left < sizeof chunk ? left : sizeof chunk;
      if (!flash_->read(from, {chunk, n})) return fail();
      c.update({chunk, n});
      from += static_cast<std::uint32_t>(n);
      left -= n;
    }
    return c.value() == r.header.value_crc;
  }

  static bool all_erased(bytes_view b) noexcept {
    for (byte x : b)
      if (x != 0xFF) return false;
    return true;
  }
  result<void> seal_torn_tail() noexcept {
    // The end of the programmed bytes: everything from there to the end of the block reads 0xFF.
    std::uint32_t end = write_offset_;
    byte chunk[64];
    for (std::uint32_t at = write_offset_; at < block_size_;) {
      const std::uint32_t n = block_size_ - at < sizeof chunk ? block_size_ - at : static_cast<std::uint32_t>(sizeof chunk);
      if (!flash_->read(address(active_, at), {chunk, n})) return fail();
      for (std::uint32_t i = 0; i < n; ++i)
        if (chunk[i] != 0xFF) end = at + i + 1;
      at += n;
    }
    if (end == write_offset_) return success();
    stats_.torn_tail_bytes += end - write_offset_;
    std::memset(chunk, 0, sizeof chunk);
    for (std::uint32_t at = write_offset_; at < end;) {
      const std::uint32_t n = end - at < sizeof chunk ? end - at : static_cast<std::uint32_t>(sizeof chunk);
      if (!flash_->program(address(active_, at), {chunk, n})) return fail();
      at += n;
    }
    write_offset_ = end;
    return success();
  }

  // ---- keys
  static std::uint32_t hash(bytes_view key) noexcept {  // FNV-1a
    std::uint32_t h = 2166136261U;
    for (byte b : key) h = (h ^ b) * 16777619U;
    return h;
  }
  bool slot_holds(const key_slot& s, bytes_view key, std::uint32_t h) noexcept {
    if (s.key_length != key.size() || s.hash != h) return false;
    byte stored[255];
    if (!flash_->read(s.address + header_bytes, {stored, key.size()})) return false;
    return std::memcmp(stored, key.data(), key.size()) == 0;
  }
  std::size_t find(std::string_view key) noexcept {
    const bytes_view k = as_bytes(key);
    const std::uint32_t h = hash(k);
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (slot_holds(keys_[i], k, h)) return i;
    return npos_slot;
  }
  std::size_t free_slot() const noexcept {
    for (std::size_t i = 0; i < keys_.size(); ++i)
      if (keys_[i].key_length == 0) return i;
    return npos_slot;
  }
  bool read_key(std::uint32_t at, const record_header& h, byte* key) noexcept {
    return static_cast<bool>(flash_->read(at + header_bytes, {key, h.key_length}));
  }
  void index_put(std::uint32_t at, const record_header& h, bool value_ok) noexcept {
    byte key[255];
    if (h.key_length == 0 || !read_key(at, h, key)) return;
    std::size_t slot = find(as_string({key, h.key_length}));
    if (slot == npos_slot) slot = free_slot();
    if (slot == npos_slot) return;  // more keys than slots: only possible with a smaller build than wrote it
    keys_[slot] = key_slot{at, hash({key, h.key_length}), h.key_length, !value_ok};
  }
  void index_erase(std::uint32_t at, const record_header& h) noexcept {
    byte key[255];
    if (h.key_length == 0 || !read_key(at, h, key)) return;
    if (const std::size_t slot = find(as_string({key, h.key_length})); slot != npos_slot) keys_[slot] = key_slot{};
  }

  // ---- writing
  // Value first, header last: until the header is complete the record does not exist.
  result<std::uint32_t> write_record(record_kind kind, std::uint64_t sequence, bytes_view key, bytes_view value,
                                     bool reclaiming) noexcept {
    const std::size_t need = header_bytes + key.size() + value.size();
    // Ordinary writes never eat into the reserve block: when a marker had to take it, the oldest block is
    // reclaimed before anything else is written.
    if (!reclaiming)
      while (free_blocks() == 0)
        if (auto r = reclaim_oldest(); !r) return r.error();
    if (write_offset_ + need > block_size_ || active_ == npos)
      if (auto r = open_block(reclaiming, need); !r) return r.error();
    const std::uint32_t at = address(active_, write_offset_);
    byte header[header_bytes];
    encode_record_header(header, kind, sequence, key, value);
    if (!key.empty() && !flash_->program(at + header_bytes, key)) return fail();
    if (!value.empty() && !flash_->program(at + header_bytes + static_cast<std::uint32_t>(key.size()), value))
      return fail();
    if (!flash_->program(at, header)) return fail();
    write_offset_ += static_cast<std::uint32_t>(need);
    return at;
  }

  result<void> write_marker(bool reclaiming) noexcept {
    byte next[8];
    detail::put_le64(next, next_sequence_);
    if (auto r = write_record(record_kind::head, head_, {}, next, reclaiming); !r) return r.error();
    committed_head_ = head_;
    return success();
  }

  // Makes room for `need` bytes, normally by starting the next block. Ordinary writes leave one free block
  // for reclaiming; reclaiming may take it.
  result<void> open_block(bool reclaiming, std::size_t need) noexcept {
    if (!reclaiming) {
      while (free_blocks() < 2) {
        if (auto r = reclaim_oldest(); !r) return r;
        // Reclaiming may itself have started a block (for the copies and the marker): use its room first
        // instead of leaving it nearly empty.
        if (write_offset_ + need <= block_size_) return success();
      }
    } else if (free_blocks() == 0) {
      return errc::storage_full;
    }
    std::uint32_t b = active_ == npos ? 0 : (active_ + 1) % block_count_;
    while (blocks_[b].number != 0) b = (b + 1) % block_count_;
    if (!blocks_[b].erased && !flash_->erase(b)) return fail();
    byte header[header_bytes];
    encode_record_header(header, record_kind::block_start, next_block_number_, {}, {});
    if (!flash_->program(address(b, 0), header)) return fail();
    blocks_[b] = block_info{next_block_number_++, 0, false, false};
    active_ = b;
    write_offset_ = header_bytes;
    return success();
  }

  // Frees the oldest block once nothing queued lives in it: live keys and the head move forward first.
  result<void> reclaim_oldest() noexcept {
    const std::uint32_t victim = oldest();
    if (victim == npos || victim == active_) return errc::storage_full;
    if (blocks_[victim].has_data && blocks_[victim].newest_data >= head_) return errc::storage_full;
    for (key_slot& k : keys_) {
      if (k.key_length == 0 || k.address / block_size_ != victim) continue;
      // Copied byte for byte, checksums included: a damaged value stays detectably damaged.
      byte raw[header_bytes];
      if (!flash_->read(k.address, raw)) return fail();
      const auto h = decode_record_header(raw, block_size_);
      if (!h) return errc::storage_corrupt;
      if (auto r = copy_record(k.address, h->total_size()); !r) return r.error();
      else k.address = *r;
    }
    if (auto r = write_marker(true); !r) return r;
    if (!flash_->erase(victim)) return fail();
    blocks_[victim] = block_info{};
    blocks_[victim].erased = true;
    if (read_block_ == victim) {
      read_block_ = oldest();
      read_offset_ = header_bytes;
    }
    return success();
  }

  result<std::uint32_t> copy_record(std::uint32_t from, std::size_t size) noexcept {
    if (write_offset_ + size > block_size_)
      if (auto r = open_block(true, size); !r) return r.error();
    const std::uint32_t to = address(active_, write_offset_);
    // Same order as write_record: everything after the header first, then the header.
    byte chunk[64];
    for (std::size_t done = header_bytes; done < size;) {
      const std::size_t n = size - done < sizeof chunk ? size - done : sizeof chunk;
      if (!flash_->read(from + static_cast<std::uint32_t>(done), {chunk, n})) return fail();
      if (!flash_->program(to + static_cast<std::uint32_t>(done), {chunk, n})) return fail();
      done += n;
    }
    if (!flash_->read(from, {chunk, header_bytes}) || !flash_->program(to, {chunk, header_bytes}))
      return fail();
    write_offset_ += static_cast<std::uint32_t>(size);
    return to;
  }

  // ---- reading the queue
  result<located> locate_head() noexcept {
    while (read_block_ != npos) {
      std::uint64_t skipped = 0;
      auto found = next_record(read_block_, read_offset_, skipped);
      if (!found) return found.error();
      if (!*found) {
        if (read_block_ == active_) break;
        read_block_ = next_in_log(read_block_);
        read_offset_ = header_bytes;
        continue;
      }
      const located& r = **found;
      if (r.header.kind == record_kind::data && r.header.sequence >= head_) {
        read_offset_ = r.address - address(read_block_, 0);
        return r;
      }
      read_offset_ = r.address - address(read_block_, 0) + static_cast<std::uint32_t>(r.header.total_size());
    }
    // The end of the log: whatever the counters say, nothing more can be delivered.
    records_ = bytes_ = 0;
    return errc::not_found;
  }

  void consume(const located& r) noexcept {
    head_ = r.header.sequence + 1;
    read_offset_ += static_cast<std::uint32_t>(r.header.total_size());
    if (records_ != 0) --records_;
    bytes_ = bytes_ >= r.header.length ? bytes_ - r.header.length : 0;
  }

  result<void> note_and_maybe_commit(std::size_t payload) noexcept {
    tracker_.note(payload);
    if (tracker_.due()) return commit();
    return success();
  }

  Flash* flash_;
  std::span<block_info> blocks_;
  std::span<key_slot> keys_;
  flash_store_config config_;
  detail::commit_tracker tracker_;

  bool mounted_ = false;
  bool failed_ = false;
  std::uint32_t block_size_ = 0;
  std::uint32_t block_count_ = 0;
  std::uint32_t active_ = npos;  // the block being written
  std::uint32_t write_offset_ = 0;
  std::uint32_t read_block_ = npos;  // where the search for the oldest queued record resumes
  std::uint32_t read_offset_ = 0;
  std::uint64_t next_block_number_ = 1;
  std::uint64_t head_ = 0;  // sequence of the oldest record not popped
  std::uint64_t committed_head_ = 0;
  std::uint64_t next_sequence_ = 0;
  std::size_t records_ = 0;
  std::size_t bytes_ = 0;
  recovery_stats stats_{};
};

template <flash_device Flash, std::uint32_t Blocks, std::size_t Keys = 8>
class flash_store final : public basic_flash_store<Flash> {
  using base = basic_flash_store<Flash>;

 public:
  explicit flash_store(Flash& flash, const flash_store_config& config = {}) noexcept
      : base(flash, blocks_, keys_, config) {}

 private:
  typename base::block_info blocks_[Blocks];
  typename base::key_slot keys_[Keys > 0 ? Keys : 1];
};

}  // namespace thingwell::store
