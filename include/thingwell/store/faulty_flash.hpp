// thingwell — a flash device that loses power on cue, for recovery tests.
//
// faulty_flash wraps another flash device. The fault plan names the program (or erase) call during which
// power fails: that program reaches the cells only up to `keep_bytes` (a torn write), that erase clears
// only the first half of its block, and from then on every call fails with errc::storage_io, as a dead
// chip would. The test then "reboots": it mounts a new store over the wrapped device and checks what
// recovery made of the cells.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "flash.hpp"

namespace thingwell::store {

struct flash_fault_plan {
  static constexpr std::uint64_t never = ~std::uint64_t{0};

  std::uint64_t fail_program = never;  // 0-based index of the program call that is interrupted
  std::size_t keep_bytes = 0;          // bytes of that call that reach the cells
  std::uint64_t fail_erase = never;    // 0-based index of the erase call that is interrupted

  // What happened so far.
  std::uint64_t programs = 0;
  std::uint64_t erases = 0;
  bool crashed = false;
};

template <flash_device Flash>
class faulty_flash {
 public:
  faulty_flash(Flash& inner, flash_fault_plan& plan) noexcept : inner_(&inner), plan_(&plan) {}

  std::uint32_t block_size() const noexcept { return inner_->block_size(); }
  std::uint32_t block_count() const noexcept { return inner_->block_count(); }

  result<void> read(std::uint32_t address, mutable_bytes out) noexcept {
    if (plan_->crashed) return errc::storage_io;
    return inner_->read(address, out);
  }

  result<void> program(std::uint32_t address, bytes_view in) noexcept {
    if (plan_->crashed) return errc::storage_io;
    if (plan_->programs++ == plan_->fail_program) {
      plan_->crashed = true;
      const std::size_t keep = plan_->keep_bytes < in.size() ? plan_->keep_bytes : in.size();
      if (keep != 0) (void)inner_->program(address, in.first(keep));
      return errc::storage_io;
    }
    return inner_->program(address, in);
  }

  result<void> erase(std::uint32_t block) noexcept {
    if (plan_->crashed) return errc::storage_io;
    if (plan_->erases++ == plan_->fail_erase) {
      plan_->crashed = true;
      interrupted_erase(block);
      return errc::storage_io;
    }
    return inner_->erase(block);
  }

 private:
  // Half erased: the first half of the block reads 0xFF, the second half still holds what it held. That
  // cannot be produced through program() (it only clears bits), so it needs the simulated part's cells;
  // over a device without them the erase simply does not happen.
  void interrupted_erase(std::uint32_t block) noexcept {
    if constexpr (requires(Flash& f) { f.cells(); }) {
      const std::size_t base = std::size_t{block} * inner_->block_size();
      std::memset(inner_->cells().data() + base, 0xFF, inner_->block_size() / 2);
    }
  }

  Flash* inner_;
  flash_fault_plan* plan_;
};

}  // namespace thingwell::store
