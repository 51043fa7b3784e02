// thingwell — umbrella header for hosts.
//
// Includes everything the build enabled. MCU builds usually include only what they use
// (thingwell/core/..., thingwell/mqtt.hpp) to keep compile times and flash small.
#pragma once

#include "core/config.hpp"

#include "core/backoff.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/static_vector.hpp"

#include "mqtt.hpp"
