// thingwell — raw NOR flash: the device concept the flash store is written against, and a simulated part.
//
// NOR flash is not a disk. It is erased a block at a time (every bit back to 1), programming can only
// clear bits (1 → 0), and every erase wears the block a little. A store that respects that contract here
// runs unchanged on a microcontroller's internal flash or an SPI NOR chip: a board port implements
// read/program/erase over its HAL and nothing else.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::store {

// Addresses are byte offsets from the start of the region the store owns: block b spans
// [b * block_size(), (b + 1) * block_size()).
template <class F>
concept flash_device = requires(F& f, const F& cf, std::uint32_t address, std::uint32_t block, mutable_bytes out,
                                bytes_view in) {
  { cf.block_size() } -> std::same_as<std::uint32_t>;
  { cf.block_count() } -> std::same_as<std::uint32_t>;
  { f.read(address, out) } -> std::same_as<result<void>>;
  { f.program(address, in) } -> std::same_as<result<void>>;  // may only clear bits
  { f.erase(block) } -> std::same_as<result<void>>;           // every byte of the block to 0xFF
};

// A flash part in RAM with the real part's rules, and counters to check a store against them:
// programming a bit from 0 back to 1 is refused (and counted) instead of silently ANDed, because a store
// that tries it has a bug that real flash would turn into corrupt data.
template <std::uint32_t BlockSize, std::uint32_t Blocks>
class sim_flash {
  static_assert(BlockSize > 0 && Blocks > 0);

 public:
  sim_flash() noexcept { std::memset(cells_, 0xFF, sizeof cells_); }

  std::uint32_t block_size() const noexcept { return BlockSize; }
  std::uint32_t block_count() const noexcept { return Blocks; }

  result<void> read(std::uint32_t address, mutable_bytes out) const noexcept {
    if (!in_range(address, out.size())) return errc::invalid_argument;
    if (!out.empty()) std::memcpy(out.data(), cells_ + address, out.size());
    return success();
  }

  result<void> program(std::uint32_t address, bytes_view in) noexcept {
    if (!in_range(address, in.size())) return errc::invalid_argument;
    ++programs_;
    for (std::size_t i = 0; i < in.size(); ++i) {
      byte& cell = cells_[address + i];
      if ((cell & in[i]) != in[i]) {
        ++program_violations_;
        return errc::storage_io;
      }
      cell = in[i];
    }
    return success();
  }

  result<void> erase(std::uint32_t block) noexcept {
    if (block >= Blocks) return errc::invalid_argument;
    std::memset(cells_ + std::size_t{block} * BlockSize, 0xFF, BlockSize);
    ++wear_[block];
    ++erases_;
    return success();
  }

  // ---- for tests
  std::uint32_t wear(std::uint32_t block) const noexcept { return wear_[block]; }
  std::uint64_t programs() const noexcept { return programs_; }
  std::uint64_t erases() const noexcept { return erases_; }
  std::uint64_t program_violations() const noexcept { return program_violations_; }
  // The cells themselves, to damage them the way time and radiation do (bits flip either way).
  mutable_bytes cells() noexcept { return {cells_, sizeof cells_}; }

 private:
  static bool in_range(std::uint32_t address, std::size_t n) noexcept {
    return address <= std::size_t{BlockSize} * Blocks && n <= std::size_t{BlockSize} * Blocks - address;
  }

  byte cells_[std::size_t{BlockSize} * Blocks];
  std::uint32_t wear_[Blocks]{};
  std::uint64_t programs_ = 0;
  std::uint64_t erases_ = 0;
  std::uint64_t program_violations_ = 0;
};

}  // namespace thingwell::store
