#pragma once

#include <cstddef>
#include <string>

namespace thingwell::testing {

// Whole-file reads and writes for fixtures; throw std::runtime_error with the path on failure.
std::string read_text_file(const std::string& path);
void write_text_file(const std::string& path, const std::string& text);

// The last `line_count` lines of a file, or a short note when the file cannot be read, so that a
// failure message can always include it.
std::string last_lines_of_file(const std::string& path, std::size_t line_count);

}  // namespace thingwell::testing
