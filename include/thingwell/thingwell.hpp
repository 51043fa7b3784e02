// thingwell — umbrella header for hosts.
//
// Includes everything the build enabled (see core/config.hpp for the THINGWELL_WITH_* switches).
// MCU builds usually include only what they use (thingwell/mqtt/session.hpp,
// thingwell/net/poll_client.hpp) to keep compile times and flash small.
#pragma once

#include "core/config.hpp"

#include "core/backoff.hpp"
#include "core/bytes.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/inplace_function.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/static_vector.hpp"
#include "core/token_bucket.hpp"

#include "codec/json_compact.hpp"
#include "codec/json_reader.hpp"
#include "codec/json_writer.hpp"
#if THINGWELL_WITH_SIMDJSON
#  include "codec/json_simdjson.hpp"
#endif

#include "mqtt.hpp"
#include "mqtt/session.hpp"

#include "net/faulty_transport.hpp"
#include "net/memory_pipe.hpp"
#include "net/poll_client.hpp"
#include "net/transport.hpp"

#include "aws/client_token.hpp"
#include "aws/jobs.hpp"
#include "aws/jobs_details.hpp"
#include "aws/jobs_status.hpp"
#include "aws/jobs_topics.hpp"
#include "aws/limits.hpp"
#include "aws/service_client.hpp"
#include "aws/session_client.hpp"
#include "aws/shadow.hpp"
#include "aws/shadow_document.hpp"
#include "aws/topics.hpp"

#include "store/crc32.hpp"
#include "store/faulty_flash.hpp"
#include "store/flash.hpp"
#include "store/flash_store.hpp"
#include "store/memory_store.hpp"
#include "store/outbox.hpp"
#include "store/outbox_record.hpp"
#include "store/outbox_types.hpp"
#include "store/persistence.hpp"
#include "store/record_format.hpp"

#if THINGWELL_HAS_POSIX
#  include "net/posix_tcp.hpp"
#  include "store/faulty_file_ops.hpp"
#  include "store/file_log.hpp"
#  include "store/file_ops.hpp"
#endif

#if THINGWELL_WITH_WOLFSSL
#  include "net/tls.hpp"
#  include "net/tls_config.hpp"
#  include "net/tls_wolfssl.hpp"
#endif

#if THINGWELL_WITH_ASIO
#  include "net/asio_client.hpp"
#  include "net/asio_tcp.hpp"
#  include "aws/asio_service_client.hpp"
#  include "store/asio_outbox.hpp"
#  if THINGWELL_WITH_WOLFSSL
#    include "net/asio_tls.hpp"
#  endif
#endif
