// thingwell — the MQTT codec: every packet of MQTT 3.1.1 and 5.0, both directions.
#pragma once

#include "mqtt/decode.hpp"
#include "mqtt/encode.hpp"
#include "mqtt/frame_reader.hpp"
#include "mqtt/limits.hpp"
#include "mqtt/packets.hpp"
#include "mqtt/properties.hpp"
#include "mqtt/reason_code.hpp"
#include "mqtt/topic.hpp"
#include "mqtt/types.hpp"
#include "mqtt/utf8.hpp"
#include "mqtt/varint.hpp"
