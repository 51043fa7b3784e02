// Proves the MCU run harness (start-up code, linker script, semihosting exit) before any example is trusted:
// data is copied, bss is zeroed, static constructors run, stdout reaches the host, and main's return value
// becomes QEMU's exit status. Built twice, with THINGWELL_SELFTEST_EXIT 0 and 3; scripts/mcu-size.sh expects
// exactly those statuses back.
#include <cstdio>

namespace {

int initialised = 42;
int zeroed;
struct constructed {
  constructed() { value = 7; }
  int value = 0;
};
constructed global;

}  // namespace

int main() {
  if (initialised != 42) return 10;
  if (zeroed != 0) return 11;
  if (global.value != 7) return 12;
  std::printf("mcu selftest: hello from the Cortex-M4, exiting with %d\n", THINGWELL_SELFTEST_EXIT);
  return THINGWELL_SELFTEST_EXIT;
}
