#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

namespace thingwell::testing {

std::string_view to_string(direction flow) {
  return flow == direction::client_to_server ? "client_to_server" : "server_to_client";
}

std::uint64_t fault_proxy_counters::bytes_delivered(direction flow) const {
  return flow == direction::client_to_server ? bytes_client_to_server : bytes_server_to_client;
}

std::uint64_t fault_proxy_counters::frames_dropped(direction flow) const {
  return flow == direction::client_to_server ? frames_dropped_client_to_server : frames_dropped_server_to_client;
}

fault_proxy::frame_filter drop_packet_type(std::uint8_t packet_type, std::size_t how_many) {
  auto left = std::make_shared<std::size_t>(how_many);
  return [packet_type, left](std::uint8_t first_byte, const std::vector<std::uint8_t>&) {
    if ((first_byte >> 4) != packet_type || *left == 0) return true;
    --*left;
    return false;
  };
}

namespace {

using steady = std::chrono::steady_clock;

// Beyond this much data waiting in one direction, the proxy stops reading the source, so that a
// stalled or slow receiver pushes back on the sender instead of filling memory.
constexpr std::size_t max_queued_bytes = 8 * 1024 * 1024;
constexpr std::size_t read_size = 64 * 1024;

std::size_t index_of(direction flow) { return flow == direction::client_to_server ? 0 : 1; }

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

void set_no_delay(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

// Closing with a zero linger time sends RST instead of FIN: the abrupt failure the tests are after.
void close_with_reset(int fd) {
  if (fd < 0) return;
  const linger abort_on_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  ::close(fd);
}

struct timed_chunk {
  steady::time_point due;
  std::vector<std::uint8_t> bytes;
  std::size_t sent = 0;
};

// One direction of one proxied connection.
struct flow_state {
  mqtt_frame_splitter splitter;
  std::deque<timed_chunk> queue;
  std::size_t queued_bytes = 0;
  bool source_closed = false;  // end of stream read from the source
  bool shutdown_sent = false;  // end of stream passed on to the destination
  bool waiting_for_writable = false;
  std::optional<std::uint64_t> cut_budget;
};

struct proxied_connection {
  int client_fd = -1;
  int server_fd = -1;
  bool server_connected = false;
  bool closed = false;
  std::array<flow_state, 2> flows;
  std::optional<std::uint64_t> random_byte_budget;
  std::optional<steady::time_point> random_deadline;

  int source_fd(std::size_t flow) const { return flow == 0 ? client_fd : server_fd; }
  int destination_fd(std::size_t flow) const { return flow == 0 ? server_fd : client_fd; }
};

enum class random_cut_mode { none, by_bytes, by_time };

}  // namespace

struct fault_proxy::engine {
  explicit engine(std::uint16_t target) : target_port(target) {}

  // Settings and connections belong to the proxy thread; other threads change them through post().
  std::array<std::chrono::milliseconds, 2> delay{};
  std::array<bool, 2> blackholed{};
  bool refusing = false;
  std::array<std::optional<std::uint64_t>, 2> cut_after{};
  std::array<frame_filter, 2> filters;
  random_cut_mode random_mode = random_cut_mode::none;
  std::uint64_t random_mean = 0;
  std::mt19937_64 random_source;
  std::vector<std::unique_ptr<proxied_connection>> connections;

  int listener = -1;
  int wake_fd = -1;
  std::uint16_t listen_port = 0;
  std::atomic<std::uint16_t> target_port;
  std::thread thread;

  std::mutex command_mutex;
  std::condition_variable command_done;
  std::vector<std::function<void()>> commands;
  std::uint64_t commands_posted = 0;
  std::uint64_t commands_finished = 0;
  bool stopping = false;
  bool loop_ended = false;  // the proxy thread has returned; nobody will run commands any more

  std::atomic<std::uint64_t> accepted{0}, refused{0}, cut_count{0}, open{0}, upstream_failures{0};
  std::array<std::atomic<std::uint64_t>, 2> delivered{};
  std::array<std::atomic<std::uint64_t>, 2> dropped_frames{};
  std::atomic<std::uint64_t> discarded{0};

  void start();
  void stop();
  void post(std::function<void()> command);
  void wake() const;
  void run();
  bool run_commands();

  void accept_all();
  void open_upstream(int client_fd);
  void finish_connect(proxied_connection& connection);
  void read_from(proxied_connection& connection, std::size_t flow);
  void take_in(proxied_connection& connection, std::size_t flow, const std::uint8_t* data, std::size_t size);
  void enqueue(proxied_connection& connection, std::size_t flow, const std::uint8_t* data, std::size_t size);
  void deliver(proxied_connection& connection, std::size_t flow, steady::time_point now);
  void abort(proxied_connection& connection, bool counts_as_cut);
  void close_gracefully(proxied_connection& connection);
  bool budget_exhausted(const proxied_connection& connection) const;
  std::uint64_t draw_random_amount();
  void arm_random_cut(proxied_connection& connection, steady::time_point now);
  int poll_timeout_ms(steady::time_point now) const;
};

void fault_proxy::engine::start() {
  listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listener < 0) throw std::runtime_error("fault_proxy: socket failed");
  const int on = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 128) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(listener);
    throw std::runtime_error(std::string("fault_proxy: cannot listen on 127.0.0.1: ") + std::strerror(errno));
  }
  listen_port = ntohs(address.sin_port);
  wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    ::close(listener);
    throw std::runtime_error("fault_proxy: eventfd failed");
  }
  thread = std::thread([this] {
    run();
    {
      const std::lock_guard lock(command_mutex);
      loop_ended = true;
    }
    command_done.notify_all();
  });
}

void fault_proxy::engine::stop() {
  {
    const std::lock_guard lock(command_mutex);
    if (stopping) return;
    stopping = true;
  }
  wake();
  if (thread.joinable()) thread.join();
  command_done.notify_all();
  for (auto& connection : connections) abort(*connection, false);
  connections.clear();
  ::close(listener);
  ::close(wake_fd);
}

void fault_proxy::engine::wake() const {
  const std::uint64_t one = 1;
  (void)!::write(wake_fd, &one, sizeof one);
}

void fault_proxy::engine::post(std::function<void()> command) {
  std::unique_lock lock(command_mutex);
  if (stopping) return;
  commands.push_back(std::move(command));
  const std::uint64_t ticket = ++commands_posted;
  wake();
  // A filter calling back into the proxy runs on the proxy thread, which cannot wait for itself.
  if (std::this_thread::get_id() == thread.get_id()) return;
  command_done.wait(lock, [&] { return commands_finished >= ticket || stopping || loop_ended; });
}

bool fault_proxy::engine::run_commands() {
  std::vector<std::function<void()>> batch;
  std::uint64_t batch_end = 0;
  {
    const std::lock_guard lock(command_mutex);
    if (stopping) return false;
    batch.swap(commands);
    batch_end = commands_posted;
  }
  for (auto& command : batch) command();
  {
    const std::lock_guard lock(command_mutex);
    commands_finished = batch_end;
  }
  command_done.notify_all();
  return true;
}

std::uint64_t fault_proxy::engine::draw_random_amount() {
  // Plain modulo rather than a std:: distribution, whose output is not specified across standard
  // libraries: a seed must reproduce the same cuts everywhere.
  const std::uint64_t span = 2 * std::max<std::uint64_t>(random_mean, 1) - 1;
  return 1 + random_source() % span;
}

void fault_proxy::engine::arm_random_cut(proxied_connection& connection, steady::time_point now) {
  connection.random_byte_budget.reset();
  connection.random_deadline.reset();
  if (random_mode == random_cut_mode::by_bytes) connection.random_byte_budget = draw_random_amount();
  if (random_mode == random_cut_mode::by_time) {
    connection.random_deadline = now + std::chrono::milliseconds(static_cast<std::int64_t>(draw_random_amount()));
  }
}

void fault_proxy::engine::accept_all() {
  while (true) {
    const int client_fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client_fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: nothing more waiting; anything else (EMFILE) is retried on the next wake-up
    }
    if (refusing) {
      // Counters change before the peer can observe the effect, so that a test reacting to the
      // reset already sees it counted.
      ++refused;
      close_with_reset(client_fd);
      continue;
    }
    ++accepted;
    open_upstream(client_fd);
  }
}

void fault_proxy::engine::open_upstream(int client_fd) {
  set_no_delay(client_fd);
  auto connection = std::make_unique<proxied_connection>();
  connection->client_fd = client_fd;
  connection->server_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ++open;
  if (connection->server_fd < 0) {
    ++upstream_failures;
    abort(*connection, false);
    return;
  }
  set_no_delay(connection->server_fd);
  const sockaddr_in target = loopback(target_port.load());
  const int result = ::connect(connection->server_fd, reinterpret_cast<const sockaddr*>(&target), sizeof target);
  if (result != 0 && errno != EINPROGRESS) {
    ++upstream_failures;
    abort(*connection, false);
    return;
  }
  connection->server_connected = (result == 0);
  for (std::size_t flow = 0; flow < 2; ++flow) connection->flows[flow].cut_budget = cut_after[flow];
  arm_random_cut(*connection, steady::now());
  connections.push_back(std::move(connection));
}

void fault_proxy::engine::finish_connect(proxied_connection& connection) {
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(connection.server_fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    // The target refused: reset the client, so that it sees a failed connection rather than a hang.
    ++upstream_failures;
    abort(connection, false);
    return;
  }
  connection.server_connected = true;
}

void fault_proxy::engine::read_from(proxied_connection& connection, std::size_t flow) {
  std::uint8_t buffer[read_size];
  auto& state = connection.flows[flow];
  // A few reads per wake-up keep one busy connection from starving the others.
  for (int round = 0; round < 4 && !connection.closed && !state.source_closed; ++round) {
    const ssize_t got = ::recv(connection.source_fd(flow), buffer, sizeof buffer, MSG_DONTWAIT);
    if (got > 0) {
      take_in(connection, flow, buffer, static_cast<std::size_t>(got));
      if (static_cast<std::size_t>(got) < sizeof buffer) return;
      continue;
    }
    if (got == 0) {
      state.source_closed = true;
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    abort(connection, false);  // a reset on one side is passed on as a reset on the other
    return;
  }
}

void fault_proxy::engine::take_in(proxied_connection& connection, std::size_t flow, const std::uint8_t* data,
                                  std::size_t size) {
  auto& filter = filters[flow];
  connection.flows[flow].splitter.feed(
      data, size, static_cast<bool>(filter),
      [&](const std::uint8_t* bytes, std::size_t count) { enqueue(connection, flow, bytes, count); },
      [&](std::vector<std::uint8_t>&& frame) {
        if (filter && !frame.empty() && !filter(frame[0], frame)) {
          ++dropped_frames[flow];
          return;
        }
        enqueue(connection, flow, frame.data(), frame.size());
      });
}

void fault_proxy::engine::enqueue(proxied_connection& connection, std::size_t flow, const std::uint8_t* data,
                                  std::size_t size) {
  if (size == 0) return;
  if (blackholed[flow]) {
    discarded += size;
    return;
  }
  auto& state = connection.flows[flow];
  auto due = steady::now() + delay[flow];
  if (!state.queue.empty() && state.queue.back().due > due) due = state.queue.back().due;
  if (!state.queue.empty() && state.queue.back().due == due) {
    state.queue.back().bytes.insert(state.queue.back().bytes.end(), data, data + size);
  } else {
    state.queue.push_back(timed_chunk{due, std::vector<std::uint8_t>(data, data + size), 0});
  }
  state.queued_bytes += size;
}

bool fault_proxy::engine::budget_exhausted(const proxied_connection& connection) const {
  if (connection.random_byte_budget == std::uint64_t{0}) return true;
  return std::any_of(connection.flows.begin(), connection.flows.end(),
                     [](const flow_state& state) { return state.cut_budget == std::uint64_t{0}; });
}

void fault_proxy::engine::deliver(proxied_connection& connection, std::size_t flow, steady::time_point now) {
  auto& state = connection.flows[flow];
  state.waiting_for_writable = false;
  if (connection.closed || !connection.server_connected) return;
  if (blackholed[flow]) {
    discarded += state.queued_bytes;
    state.queue.clear();
    state.queued_bytes = 0;
    return;  // end of stream is swallowed too: a dead link does not say goodbye
  }
  while (!state.queue.empty() && state.queue.front().due <= now) {
    auto& chunk = state.queue.front();
    std::uint64_t allowed = chunk.bytes.size() - chunk.sent;
    if (state.cut_budget) allowed = std::min(allowed, *state.cut_budget);
    if (connection.random_byte_budget) allowed = std::min(allowed, *connection.random_byte_budget);
    const ssize_t sent = ::send(connection.destination_fd(flow), chunk.bytes.data() + chunk.sent,
                                static_cast<std::size_t>(allowed), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        state.waiting_for_writable = true;
        return;
      }
      abort(connection, false);
      return;
    }
    const auto count = static_cast<std::uint64_t>(sent);
    chunk.sent += static_cast<std::size_t>(sent);
    state.queued_bytes -= static_cast<std::size_t>(sent);
    delivered[flow] += count;
    if (state.cut_budget) *state.cut_budget -= count;
    if (connection.random_byte_budget) *connection.random_byte_budget -= count;
    if (chunk.sent == chunk.bytes.size()) state.queue.pop_front();
    if (budget_exhausted(connection)) {
      abort(connection, true);
      return;
    }
  }
  if (state.queue.empty() && state.source_closed && !state.shutdown_sent) {
    ::shutdown(connection.destination_fd(flow), SHUT_WR);
    state.shutdown_sent = true;
  }
  if (connection.flows[0].shutdown_sent && connection.flows[1].shutdown_sent) close_gracefully(connection);
}

void fault_proxy::engine::abort(proxied_connection& connection, bool counts_as_cut) {
  if (connection.closed) return;
  --open;
  if (counts_as_cut) ++cut_count;
  close_with_reset(connection.client_fd);
  close_with_reset(connection.server_fd);
  connection.client_fd = connection.server_fd = -1;
  connection.closed = true;
}

void fault_proxy::engine::close_gracefully(proxied_connection& connection) {
  if (connection.closed) return;
  --open;
  ::close(connection.client_fd);
  ::close(connection.server_fd);
  connection.client_fd = connection.server_fd = -1;
  connection.closed = true;
}

int fault_proxy::engine::poll_timeout_ms(steady::time_point now) const {
  std::optional<steady::time_point> next;
  auto consider = [&](steady::time_point when) {
    if (!next || when < *next) next = when;
  };
  for (const auto& connection : connections) {
    if (connection->random_deadline) consider(*connection->random_deadline);
    for (const auto& state : connection->flows) {
      if (!state.queue.empty() && !state.waiting_for_writable) consider(state.queue.front().due);
    }
  }
  if (!next) return -1;
  if (*next <= now) return 0;
  // Round up: waking a little early would only spin until the deadline.
  const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*next - now).count();
  return static_cast<int>(std::min<std::int64_t>(wait, 60'000));
}

void fault_proxy::engine::run() {
  std::vector<pollfd> watched;
  // What each watched descriptor is: the connection, and whether it is the client or server socket.
  std::vector<std::pair<proxied_connection*, bool>> owners;
  while (true) {
    if (!run_commands()) return;
    const auto now = steady::now();
    for (auto& connection : connections) {
      if (connection->closed) continue;
      if (connection->random_deadline && *connection->random_deadline <= now) {
        abort(*connection, true);
        continue;
      }
      if (connection->server_connected && budget_exhausted(*connection)) {
        abort(*connection, true);
        continue;
      }
      deliver(*connection, 0, now);
      deliver(*connection, 1, now);
    }
    connections.erase(std::remove_if(connections.begin(), connections.end(), [](const auto& c) { return c->closed; }),
                      connections.end());

    watched.clear();
    owners.clear();
    watched.push_back({wake_fd, POLLIN, 0});
    watched.push_back({listener, POLLIN, 0});
    owners.emplace_back(nullptr, false);
    owners.emplace_back(nullptr, false);
    for (auto& connection : connections) {
      auto wants_read = [&](std::size_t flow) {
        const auto& state = connection->flows[flow];
        return connection->server_connected && !state.source_closed && state.queued_bytes < max_queued_bytes;
      };
      short client_events = 0;
      short server_events = 0;
      if (wants_read(0)) client_events |= POLLIN;
      if (wants_read(1)) server_events |= POLLIN;
      if (connection->flows[1].waiting_for_writable) client_events |= POLLOUT;
      if (connection->flows[0].waiting_for_writable || !connection->server_connected) server_events |= POLLOUT;
      // A negative descriptor is skipped by poll(): a socket that is neither read nor written would
      // otherwise report a hang-up again and again while its partner drains a delayed queue.
      watched.push_back({client_events != 0 ? connection->client_fd : -1, client_events, 0});
      owners.emplace_back(connection.get(), false);
      watched.push_back({server_events != 0 ? connection->server_fd : -1, server_events, 0});
      owners.emplace_back(connection.get(), true);
    }

    const int ready = ::poll(watched.data(), watched.size(), poll_timeout_ms(steady::now()));
    if (ready < 0 && errno != EINTR) return;
    if (ready <= 0) continue;

    if (watched[0].revents != 0) {
      std::uint64_t drained = 0;
      (void)!::read(wake_fd, &drained, sizeof drained);
    }
    if (watched[1].revents != 0) accept_all();
    for (std::size_t i = 2; i < watched.size(); ++i) {
      auto [connection, is_server] = owners[i];
      const short events = watched[i].revents;
      if (events == 0 || connection->closed) continue;
      if (is_server && !connection->server_connected) {
        if ((events & (POLLOUT | POLLERR | POLLHUP)) != 0) finish_connect(*connection);
        continue;
      }
      // Errors and hang-ups are read out, so that they are told apart: end of stream or reset.
      if ((events & (POLLIN | POLLERR | POLLHUP)) != 0) read_from(*connection, is_server ? 1 : 0);
    }
  }
}

fault_proxy::fault_proxy(std::uint16_t target_port) : engine_(std::make_unique<engine>(target_port)) {
  engine_->start();
}

fault_proxy::~fault_proxy() { engine_->stop(); }

std::uint16_t fault_proxy::port() const { return engine_->listen_port; }
std::uint16_t fault_proxy::target_port() const { return engine_->target_port.load(); }
void fault_proxy::set_target_port(std::uint16_t target_port) { engine_->target_port = target_port; }

void fault_proxy::set_delay(direction flow, std::chrono::milliseconds latency) {
  engine_->post([this, flow, latency] { engine_->delay[index_of(flow)] = latency; });
}

void fault_proxy::blackhole(bool on) {
  engine_->post([this, on] { engine_->blackholed = {on, on}; });
}

void fault_proxy::blackhole(direction flow, bool on) {
  engine_->post([this, flow, on] { engine_->blackholed[index_of(flow)] = on; });
}

void fault_proxy::cut() {
  engine_->post([this] {
    for (auto& connection : engine_->connections) engine_->abort(*connection, true);
    // Connections the kernel has completed but the proxy has not yet accepted are open from the
    // client's point of view; they are cut too.
    while (true) {
      const int waiting = ::accept4(engine_->listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (waiting < 0) break;
      ++engine_->accepted;
      ++engine_->cut_count;
      close_with_reset(waiting);  // counted first, like every other cut
    }
  });
}

void fault_proxy::refuse(bool on) {
  engine_->post([this, on] { engine_->refusing = on; });
}

void fault_proxy::cut_after_bytes(direction flow, std::optional<std::uint64_t> bytes) {
  engine_->post([this, flow, bytes] {
    const auto index = index_of(flow);
    engine_->cut_after[index] = bytes;
    for (auto& connection : engine_->connections) connection->flows[index].cut_budget = bytes;
  });
}

void fault_proxy::set_frame_filter(direction flow, frame_filter filter) {
  engine_->post([this, flow, filter = std::move(filter)]() mutable { engine_->filters[index_of(flow)] = std::move(filter); });
}

void fault_proxy::random_cuts(std::uint64_t seed, std::uint64_t mean_bytes) {
  engine_->post([this, seed, mean_bytes] {
    engine_->random_source.seed(seed);
    engine_->random_mode = random_cut_mode::by_bytes;
    engine_->random_mean = mean_bytes;
    for (auto& connection : engine_->connections) engine_->arm_random_cut(*connection, steady::now());
  });
}

void fault_proxy::random_cuts(std::uint64_t seed, std::chrono::milliseconds mean_lifetime) {
  engine_->post([this, seed, mean_lifetime] {
    engine_->random_source.seed(seed);
    engine_->random_mode = random_cut_mode::by_time;
    engine_->random_mean = static_cast<std::uint64_t>(std::max<std::int64_t>(mean_lifetime.count(), 1));
    for (auto& connection : engine_->connections) engine_->arm_random_cut(*connection, steady::now());
  });
}

void fault_proxy::stop_random_cuts() {
  engine_->post([this] {
    engine_->random_mode = random_cut_mode::none;
    for (auto& connection : engine_->connections) engine_->arm_random_cut(*connection, steady::now());
  });
}

void fault_proxy::heal() {
  engine_->post([this] {
    auto& e = *engine_;
    e.delay = {};
    e.blackholed = {false, false};
    e.refusing = false;
    e.cut_after = {};
    e.filters = {};
    e.random_mode = random_cut_mode::none;
    for (auto& connection : e.connections) {
      for (auto& state : connection->flows) state.cut_budget.reset();
      e.arm_random_cut(*connection, steady::now());
    }
  });
}

fault_proxy_counters fault_proxy::counters() const {
  const auto& e = *engine_;
  fault_proxy_counters snapshot;
  snapshot.connections_accepted = e.accepted.load();
  snapshot.connections_refused = e.refused.load();
  snapshot.connections_cut = e.cut_count.load();
  snapshot.connections_open = e.open.load();
  snapshot.upstream_connect_failures = e.upstream_failures.load();
  snapshot.bytes_client_to_server = e.delivered[0].load();
  snapshot.bytes_server_to_client = e.delivered[1].load();
  snapshot.bytes_discarded = e.discarded.load();
  snapshot.frames_dropped_client_to_server = e.dropped_frames[0].load();
  snapshot.frames_dropped_server_to_client = e.dropped_frames[1].load();
  return snapshot;
}

}  // namespace thingwell::testing
