#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "mqtt_frame_splitter.hpp"

namespace thingwell::testing {

enum class direction { client_to_server, server_to_client };
std::string_view to_string(direction flow);

// Connection counters change before the peer can see the event (a reset client finds itself counted);
// byte counters right after the bytes were handed to the kernel, so poll them with wait_until().
struct fault_proxy_counters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_refused = 0;       // closed on accept while refuse(true)
  std::uint64_t connections_cut = 0;           // by cut(), cut_after_bytes() or random cuts
  std::uint64_t connections_open = 0;
  std::uint64_t upstream_connect_failures = 0; // the target did not accept; the client was reset
  std::uint64_t bytes_client_to_server = 0;    // delivered to the server
  std::uint64_t bytes_server_to_client = 0;    // delivered to the client
  std::uint64_t bytes_discarded = 0;           // swallowed by a blackhole
  std::uint64_t frames_dropped_client_to_server = 0;
  std::uint64_t frames_dropped_server_to_client = 0;

  std::uint64_t bytes_delivered(direction flow) const;
  std::uint64_t frames_dropped(direction flow) const;
};

// A TCP proxy from 127.0.0.1:port() to 127.0.0.1:target_port that injects network faults on
// command. One thread serves every connection with poll(); it is joined on destruction.
//
// Every control below is thread-safe, takes effect on current connections and on later ones, and has
// been applied when the call returns (called from inside a frame filter, it is applied right after the
// filter returns). Faults stay until changed or heal().
class fault_proxy {
 public:
  // Decides per MQTT packet: true forwards it, false drops it. `frame` is the whole packet, fixed
  // header included; `first_byte` is frame[0] (type << 4 | flags). Runs on the proxy thread and must
  // not throw or block.
  using frame_filter = std::function<bool(std::uint8_t first_byte, const std::vector<std::uint8_t>& frame)>;

  explicit fault_proxy(std::uint16_t target_port);
  ~fault_proxy();
  fault_proxy(const fault_proxy&) = delete;
  fault_proxy& operator=(const fault_proxy&) = delete;

  std::uint16_t port() const;
  std::uint16_t target_port() const;
  void set_target_port(std::uint16_t target_port);  // for connections accepted from now on

  // Holds each byte for `latency` before delivering it, preserving order. Applies to bytes read from
  // now on; a shorter delay never lets later bytes overtake earlier ones.
  void set_delay(direction flow, std::chrono::milliseconds latency);
  // Keeps connections open but discards every byte (queued ones too) and end-of-stream, so the link
  // looks dead rather than closed. Bytes that arrive while it is on are lost for good.
  void blackhole(bool on);
  void blackhole(direction flow, bool on);
  // Resets every open connection on both sides at once (SO_LINGER 0, so peers see RST).
  void cut();
  // Accepts and immediately resets new connections while on.
  void refuse(bool on);
  // Resets each connection as soon as `bytes` more bytes have been delivered in `flow` (counted from
  // this call for open connections, from the start for new ones); 0 resets on establishment.
  // nullopt removes the limit.
  void cut_after_bytes(direction flow, std::optional<std::uint64_t> bytes);
  // Frames `flow` as MQTT and asks `filter` about each packet; an empty function removes it. Only for
  // plain MQTT, not TLS. A packet already partly forwarded when the filter is set is not judged.
  void set_frame_filter(direction flow, frame_filter filter);
  // Resets each connection after a pseudo-random number of delivered bytes (both directions
  // together), uniform in [1, 2 * mean_bytes - 1], drawn from a generator seeded with `seed`: with a
  // deterministic client, the same seed cuts at the same points again.
  void random_cuts(std::uint64_t seed, std::uint64_t mean_bytes);
  // The same with a lifetime in milliseconds, uniform in [1, 2 * mean_lifetime - 1].
  void random_cuts(std::uint64_t seed, std::chrono::milliseconds mean_lifetime);
  void stop_random_cuts();
  // Removes every fault: no delay, blackhole, refusal, byte limit, filter or random cut.
  void heal();

  fault_proxy_counters counters() const;

 private:
  struct engine;
  std::unique_ptr<engine> engine_;
};

// A frame filter that drops packets of one MQTT type (see mqtt_packet), the first `how_many` of them
// or all: drop_packet_type(mqtt_packet::puback) on server_to_client loses every PUBACK.
fault_proxy::frame_filter drop_packet_type(std::uint8_t packet_type,
                                           std::size_t how_many = std::numeric_limits<std::size_t>::max());

}  // namespace thingwell::testing
