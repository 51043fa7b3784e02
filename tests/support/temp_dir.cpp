#include "temp_dir.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>
#include <vector>

namespace thingwell::testing {

bool keep_test_files() {
  const char* value = std::getenv("THINGWELL_KEEP_TEST_FILES");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

namespace {

std::string sanitized(const std::string& hint) {
  std::string name;
  for (char c : hint) {
    const bool portable = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    name += portable ? c : '_';
  }
  if (name.size() > 40) name.resize(40);
  return name.empty() ? std::string("test") : name;
}

}  // namespace

temp_dir::temp_dir(const std::string& name_hint) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = (base != nullptr && base[0] != '\0') ? base : "/tmp";
  pattern += "/thingwell-" + sanitized(name_hint) + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) {
    throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
  }
  path_ = buffer.data();
}

temp_dir::~temp_dir() { remove(); }

temp_dir::temp_dir(temp_dir&& other) noexcept : path_(std::exchange(other.path_, std::string())) {}

temp_dir& temp_dir::operator=(temp_dir&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, std::string());
  }
  return *this;
}

std::string temp_dir::file(const std::string& relative) const { return path_ + "/" + relative; }

void temp_dir::remove() noexcept {
  if (path_.empty()) return;
  if (keep_test_files()) {
    std::fprintf(stderr, "thingwell: keeping test files in %s\n", path_.c_str());
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  path_.clear();
}

}  // namespace thingwell::testing
