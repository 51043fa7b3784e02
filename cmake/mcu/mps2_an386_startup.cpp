// Start-up code for the MPS2 AN386 (Cortex-M4) as QEMU models it, linked with mps2_an386.ld and newlib's
// semihosting layer (rdimon). It does what a vendor's start-up file does, and ends the program through
// semihosting so that QEMU exits with main's return value: that is what lets a test run a firmware image.
#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" {

extern std::uint32_t __data_start;
extern std::uint32_t __data_end;
extern const std::uint32_t __data_load;
extern std::uint32_t __bss_start__;
extern std::uint32_t __bss_end__;
extern std::uint32_t __stack_top;

void __libc_init_array();
void initialise_monitor_handles();
int main();

[[noreturn]] void thingwell_reset_handler();
[[noreturn]] void thingwell_fault_handler();
void thingwell_ignore_interrupt();

void thingwell_reset_handler() {
  // The FPU is off after reset; the hard-float ABI may use it before main.
  volatile std::uint32_t& cpacr = *reinterpret_cast<volatile std::uint32_t*>(0xE000ED88u);
  cpacr = cpacr | (0xFu << 20);
  __asm volatile("dsb\n isb" ::: "memory");

  std::memcpy(&__data_start, &__data_load,
              static_cast<std::size_t>(reinterpret_cast<char*>(&__data_end) - reinterpret_cast<char*>(&__data_start)));
  std::memset(&__bss_start__, 0,
              static_cast<std::size_t>(reinterpret_cast<char*>(&__bss_end__) - reinterpret_cast<char*>(&__bss_start__)));

  initialise_monitor_handles();
  __libc_init_array();
  std::exit(main());
}

// A fault is a failed run: report it as exit status 128 + 3 instead of hanging until the test times out.
void thingwell_fault_handler() {
  std::_Exit(131);
}

void thingwell_ignore_interrupt() {}

using vector = void (*)();

// The core reads the initial stack pointer and the reset vector from address 0.
__attribute__((section(".vectors"), used)) const vector thingwell_vectors[16] = {
    reinterpret_cast<vector>(&__stack_top),
    thingwell_reset_handler,
    thingwell_fault_handler,     // NMI
    thingwell_fault_handler,     // HardFault
    thingwell_fault_handler,     // MemManage
    thingwell_fault_handler,     // BusFault
    thingwell_fault_handler,     // UsageFault
    nullptr, nullptr, nullptr, nullptr,
    thingwell_ignore_interrupt,  // SVCall
    thingwell_ignore_interrupt,  // DebugMonitor
    nullptr,
    thingwell_ignore_interrupt,  // PendSV
    thingwell_ignore_interrupt,  // SysTick
};

}  // extern "C"
