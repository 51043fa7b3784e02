// thingwell emulator — the Jobs service's state on disk: one file, <data-dir>/jobs/jobs.json, replaced
// atomically (durable_file.hpp) after every change, so that a restart or a crash of the emulator loses no
// job execution a device has seen accepted. A subdirectory keeps it apart from the shadow files, which
// shadow_store reads from the data directory itself.
#pragma once

#include <optional>
#include <string>
#include <system_error>

#include "json_tree.hpp"

namespace thingwell::emulator {

class jobs_store {
 public:
  explicit jobs_store(const std::string& data_directory);

  // Creates the directory (and its parents) if needed.
  std::error_code open();
  std::error_code save(const json_value& record) const;
  // The stored record; nothing (and `error` empty) when there is none yet, nothing with `error` set when
  // the file cannot be read as JSON.
  std::optional<json_value> load(std::string& error) const;

  const std::string& file() const noexcept { return file_; }

 private:
  std::string directory_;
  std::string file_;
};

}  // namespace thingwell::emulator
