#pragma once

#include <chrono>
#include <functional>

namespace thingwell::testing {

// Polls `condition` until it holds or `timeout` passes; returns its last value. Integration tests
// observe other processes and threads, so "eventually, within a bound" is the only honest check.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval = std::chrono::milliseconds(5));

}  // namespace thingwell::testing
