// Replays fuzz inputs through a libFuzzer entry point without libFuzzer, so that every compiler (and every
// sanitizer build) checks the committed corpus and crash regressions.
//
// Usage: fuzz-replay-<name> <file or directory>...
// A directory that does not exist counts as empty: git keeps no empty directories.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

#if defined(__GNUC__) || defined(__clang__)
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int* argc, char*** argv);
#endif

namespace {

bool read_file(const std::filesystem::path& path, std::vector<char>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

int replay(const std::filesystem::path& path) {
  std::vector<char> content;
  if (!read_file(path, content)) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.string().c_str());
    return 1;
  }
  // An exact-size heap copy lets AddressSanitizer see reads one past the end, as libFuzzer's buffer does.
  const std::size_t size = content.size();
  std::unique_ptr<std::uint8_t[]> data(new std::uint8_t[size == 0 ? 1 : size]);
  std::copy(content.begin(), content.end(), data.get());
  std::fprintf(stderr, "replay: %s (%zu bytes)\n", path.string().c_str(), size);
  LLVMFuzzerTestOneInput(size == 0 ? nullptr : data.get(), size);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
#if defined(__GNUC__) || defined(__clang__)
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);
#endif
  std::size_t count = 0;
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      // Sorted, so that a failure reproduces in the same order on every machine.
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::recursive_directory_iterator(arg, ec)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) {
        failures += replay(file);
        ++count;
      }
    } else if (std::filesystem::exists(arg, ec)) {
      failures += replay(arg);
      ++count;
    } else {
      std::fprintf(stderr, "replay: %s does not exist, nothing to replay there\n", argv[i]);
    }
  }
  std::fprintf(stderr, "replay: %zu inputs replayed\n", count);
  return failures == 0 ? 0 : 1;
}
