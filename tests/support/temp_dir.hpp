#pragma once

#include <string>

namespace thingwell::testing {

// A private directory under $TMPDIR (or /tmp), removed with everything in it on destruction.
// Set THINGWELL_KEEP_TEST_FILES=1 to keep it for a post-mortem; its path is then printed to stderr.
class temp_dir {
 public:
  explicit temp_dir(const std::string& name_hint = "test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir(temp_dir&& other) noexcept;
  temp_dir& operator=(temp_dir&& other) noexcept;

  const std::string& path() const { return path_; }
  // path() + "/" + relative, for building file names without repeating the separator.
  std::string file(const std::string& relative) const;

 private:
  void remove() noexcept;
  std::string path_;
};

// True when THINGWELL_KEEP_TEST_FILES is set to anything but "" or "0".
bool keep_test_files();

}  // namespace thingwell::testing
