// thingwell emulator — shadows on disk: one JSON file per shadow in the data directory, so that a restart
// (or a crash) of the emulator loses nothing a device has seen accepted.
//
// A file is replaced atomically: written to a temporary name in the same directory, flushed to the disk,
// then renamed over the old one. A reader (or a crash) sees the old file or the new one, never half of one.
// File names are derived from the thing and shadow names (whose alphabets hold no '/' and no '.'):
//   <thing>.json               the classic shadow
//   <thing>.name.<shadow>.json a named shadow
// The names are also stored inside each file, which is what loading trusts.
#pragma once

#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "shadow_document.hpp"

namespace thingwell::emulator {

class shadow_store {
 public:
  explicit shadow_store(std::string directory) : directory_(std::move(directory)) {}

  // Creates the directory (and its parents) if needed.
  std::error_code open();
  std::error_code save(const shadow_key& key, const shadow_document& document) const;

  struct loaded {
    std::vector<std::pair<shadow_key, shadow_document>> shadows;
    std::vector<std::string> skipped;  // files that could not be read, with the reason
  };
  loaded load() const;

  std::string file_for(const shadow_key& key) const;

 private:
  std::string directory_;
};

}  // namespace thingwell::emulator
