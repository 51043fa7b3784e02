#pragma once

#include <chrono>
#include <cstdint>

namespace thingwell::testing {

// A TCP port on 127.0.0.1 that nothing listens on right now. Ports are chosen below the kernel's
// ephemeral range, so that the source port of some unrelated outgoing connection cannot take it
// between this call and the fixture's bind (or between a broker's stop and restart). The same
// process never gets the same port twice. Another process can still race for it, as with any
// "find a free port" scheme.
std::uint16_t free_loopback_port();

// True once a TCP connect to 127.0.0.1:port succeeds, false when `timeout` passes first.
bool wait_for_port(std::uint16_t port, std::chrono::milliseconds timeout);

// One connect attempt to 127.0.0.1:port.
bool port_accepts_connections(std::uint16_t port);

}  // namespace thingwell::testing
