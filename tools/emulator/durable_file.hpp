// thingwell emulator — replacing a file so that a crash leaves the old content or the new, never half.
//
// The text is written to "<path>.tmp" in the same directory, flushed to the disk, renamed over `path`, and
// the directory is flushed so that the rename itself survives a power cut. Loaders ignore leftover .tmp
// files: a save that did not reach its rename never happened.
#pragma once

#include <string>
#include <system_error>

namespace thingwell::emulator {

std::error_code replace_file_durably(const std::string& path, const std::string& text);

}  // namespace thingwell::emulator
