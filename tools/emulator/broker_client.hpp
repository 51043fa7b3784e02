// thingwell emulator — the MQTT connection to the broker: thingwell's Asio client over plain TCP, or over
// mutual TLS when a CA, certificate and key are given. The two are different types, so the code that uses
// the client is a generic callable and runs with whichever was built.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include <asio/io_context.hpp>

#include <thingwell/net/asio_client.hpp>
#include <thingwell/net/asio_tcp.hpp>
#if THINGWELL_WITH_WOLFSSL
#include <thingwell/net/asio_tls.hpp>
#include <thingwell/net/tls_config.hpp>
#include <thingwell/net/tls_wolfssl.hpp>
#endif

#include "command_line.hpp"

namespace thingwell::emulator {

inline net::client_options client_options_for(const broker_options& broker, std::string default_client_id) {
  net::client_options o;
  o.host = broker.host;
  o.port = broker.effective_port();
  o.client_id = broker.client_id.empty() ? std::move(default_client_id) : broker.client_id;
  o.version = mqtt::protocol_version::v5;
  o.keep_alive = 30;
  // Every response is a QoS 1 publish; bursts of them (a test's worth) must not hit the defaults.
  o.memory.output_bytes = 512 * 1024;
  o.memory.store_bytes = 8 * 1024 * 1024;
  return o;
}

// Calls use(client) with a client for `broker` and returns what it returns; on a TLS set-up error prints
// the reason and returns 2 without calling it.
template <class Use>
int with_broker_client(asio::io_context& io, const broker_options& broker, const net::client_options& options,
                       Use&& use) {
  if (!broker.tls()) {
    net::asio_client<net::asio_tcp> client{io.get_executor(), options};
    return use(client);
  }
#if THINGWELL_WITH_WOLFSSL
  net::tls_config tls;
  tls.server_name = broker.tls_server_name.empty() ? broker.host : broker.tls_server_name;
  tls.trust_anchors.push_back(net::pem_file{broker.tls_ca});
  tls.client_certificate.push_back(net::pem_file{broker.tls_cert});
  tls.client_key = net::pem_file{broker.tls_key};
  net::tls_config_error diagnosis;
  auto context = net::wolfssl_context::create(tls, &diagnosis);
  if (!context) {
    std::fprintf(stderr, "thingwell-emulator: TLS set-up failed: %s (%s %s: %s)\n", context.error().message().c_str(),
                 net::describe(diagnosis.item), diagnosis.source.c_str(), diagnosis.reason);
    return 2;
  }
  // The context must outlive the client: it is declared first.
  net::asio_client<net::asio_tls> client{io.get_executor(), options, std::cref(*context)};
  return use(client);
#else
  std::fprintf(stderr, "thingwell-emulator: built without wolfSSL, TLS is not available\n");
  return 2;
#endif
}

}  // namespace thingwell::emulator
