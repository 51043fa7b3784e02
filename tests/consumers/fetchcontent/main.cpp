// Uses thingwell the way a downstream project does: it has to compile, link and run.
#include <thingwell/thingwell.hpp>

#include <cstdio>

namespace {

thingwell::result<int> half(int value) {
  if (value % 2 != 0) return thingwell::errc::invalid_argument;
  return value / 2;
}

}  // namespace

int main() {
  const auto even = half(42);
  const auto odd = half(7);
  if (!even || *even != 21) return 1;
  if (odd || odd.error() != thingwell::errc::invalid_argument) return 1;
  std::printf("thingwell %s: half(7) -> %s\n", THINGWELL_VERSION_STRING, odd.error().message().c_str());
  return 0;
}
