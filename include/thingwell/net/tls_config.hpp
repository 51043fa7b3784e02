// thingwell — TLS client configuration, independent of the TLS library.
//
// What a device needs to open a mutually authenticated TLS connection to AWS IoT Core or any MQTT
// broker: trust anchors, its own certificate and key, the server name, ALPN. A backend (wolfSSL
// today) turns this into a context once and then opens any number of connections with it.
//
// Security defaults cannot be forgotten: there is no field to switch peer verification, hostname
// verification or SNI off, and the lowest version that can be named is TLS 1.2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"

namespace thingwell::net {

// PEM text in a file, read when the context is created.
struct pem_file {
  std::string path;
};

// PEM text the caller owns. It only has to live until the context has been created: the backend
// parses it then and keeps its own copy, so a caller holding a key may wipe its buffer afterwards.
struct pem_buffer {
  std::string_view text;
};

// A certificate or a set of certificates.
using certificate_source = std::variant<pem_file, pem_buffer>;

// Where the client's private key comes from. std::monostate means "no client certificate".
//
// The variant is the extension point for keys that never leave a secure element (ATECC608, SE050,
// a TPM, PKCS#11): a later alternative such as
//   struct device_key { int device_id; std::uint32_t slot; };
// will route signing through wolfSSL's PK callbacks or crypto callbacks (HAVE_PK_CALLBACKS,
// WOLF_CRYPTO_CB) instead of loading key material. Adding an alternative keeps every existing
// initialisation (`cfg.client_key = pem_file{...}`) compiling; code that inspects the variant should
// use std::get_if rather than an exhaustive visit.
using key_source = std::variant<std::monostate, pem_file, pem_buffer>;

enum class tls_version : std::uint8_t { tls1_2 = 12, tls1_3 = 13 };

// RFC 6066 maximum fragment length. A small device asks for short records so that the TLS
// library's own record buffers shrink; the server may refuse (AWS IoT Core does not document it).
enum class max_fragment_length : std::uint8_t { unlimited = 0, bytes_512, bytes_1024, bytes_2048, bytes_4096 };

inline constexpr std::size_t fragment_bytes(max_fragment_length m) noexcept {
  switch (m) {
    case max_fragment_length::bytes_512: return 512;
    case max_fragment_length::bytes_1024: return 1024;
    case max_fragment_length::bytes_2048: return 2048;
    case max_fragment_length::bytes_4096: return 4096;
    case max_fragment_length::unlimited: break;
  }
  return 16384;
}

struct tls_config {
  // Host name the server certificate must match; also sent as SNI, which AWS IoT Core requires.
  // Required. An IP literal is accepted for local brokers: it is then checked against the
  // certificate but not sent as SNI, which RFC 6066 forbids for addresses.
  std::string server_name;

  // At least one. For AWS IoT Core: Amazon Root CA 1 (RSA) and Amazon Root CA 3 (ECC).
  // A source may hold several PEM certificates.
  std::vector<certificate_source> trust_anchors;

  // The device certificate, leaf first, then any intermediates. Optional, but both or neither of
  // client_certificate and client_key.
  std::vector<certificate_source> client_certificate;
  // PKCS#8 ("BEGIN PRIVATE KEY"), SEC1 ("BEGIN EC PRIVATE KEY") or PKCS#1 ("BEGIN RSA PRIVATE KEY").
  // Encrypted keys are not supported.
  key_source client_key;

  // Offered in order of preference; the server must pick one of them, or the connection fails with
  // errc::tls_alpn_rejected. Use alpn_for_port() for AWS IoT Core.
  std::vector<std::string> alpn;

  tls_version min_version = tls_version::tls1_2;
  tls_version max_version = tls_version::tls1_3;

  // In the backend's syntax (wolfSSL/OpenSSL names separated by ':'). Empty selects thingwell's
  // default: ECDHE with AES-GCM or ChaCha20-Poly1305, and the TLS 1.3 suites.
  std::string cipher_list;

  max_fragment_length fragment_length = max_fragment_length::unlimited;
};

// What an application protocol runs over TLS on a port of AWS IoT Core (aws-iot-protocol.md §6.2).
enum class aws_application { mqtt, https };

// The ALPN protocol AWS IoT Core needs for X.509 client authentication on `port`: on 443 the
// broker shares the port with HTTPS and WebSockets and routes by ALPN; 8883 and 8443 need none.
// Empty when none is needed.
inline constexpr std::string_view alpn_for_port(std::uint16_t port, aws_application app = aws_application::mqtt) noexcept {
  if (port != 443) return {};
  return app == aws_application::mqtt ? std::string_view{"x-amzn-mqtt-ca"} : std::string_view{"x-amzn-http-ca"};
}

// The usual device setup for one broker endpoint: the host name is both SNI and the name the server
// certificate must carry, and ALPN is what AWS IoT Core requires on that port (x-amzn-mqtt-ca on 443
// for MQTT with X.509, none on 8883).
inline tls_config device_tls_config(std::string host, std::uint16_t port, certificate_source trust_anchor,
                                    certificate_source certificate, key_source key,
                                    aws_application app = aws_application::mqtt) {
  tls_config t;
  t.server_name = std::move(host);
  t.trust_anchors.push_back(std::move(trust_anchor));
  t.client_certificate.push_back(std::move(certificate));
  t.client_key = std::move(key);
  if (const std::string_view alpn = alpn_for_port(port, app); !alpn.empty()) t.alpn.emplace_back(alpn);
  return t;
}

// Which part of a tls_config could not be used, for a log line that names the culprit.
enum class tls_config_item : std::uint8_t {
  none,
  server_name,
  trust_anchor,
  client_certificate,
  client_key,
  alpn,
  cipher_list,
  version_range,
  fragment_length,
};

inline const char* describe(tls_config_item item) noexcept {
  switch (item) {
    case tls_config_item::none: return "none";
    case tls_config_item::server_name: return "server name";
    case tls_config_item::trust_anchor: return "trust anchor";
    case tls_config_item::client_certificate: return "client certificate";
    case tls_config_item::client_key: return "client private key";
    case tls_config_item::alpn: return "ALPN protocol list";
    case tls_config_item::cipher_list: return "cipher list";
    case tls_config_item::version_range: return "TLS version range";
    case tls_config_item::fragment_length: return "maximum fragment length";
  }
  return "unknown";
}

// Filled in when creating a context fails. Never contains key material: only the path of a file,
// or "<buffer>", and the backend's error number.
struct tls_config_error {
  tls_config_item item = tls_config_item::none;
  std::size_t index = 0;      // which entry of trust_anchors / client_certificate / alpn
  std::string source;         // file path, or "<buffer>"
  const char* reason = "";    // static text: "cannot read file", "no certificate found", ...
  int native_error = 0;       // the backend's error number, 0 when the problem was found before it
};

namespace detail {

// Returns an error_code so that it converts into any result<T>.
inline std::error_code config_fail(tls_config_error* diag, errc code, tls_config_item item, const char* reason,
                                std::size_t index = 0, std::string source = {}, int native = 0) {
  if (diag != nullptr) {
    diag->item = item;
    diag->index = index;
    diag->source = std::move(source);
    diag->reason = reason;
    diag->native_error = native;
  }
  return make_error_code(code);
}

inline bool is_ip_literal(std::string_view name) noexcept {
  if (name.find(':') != std::string_view::npos) return true;  // IPv6; a DNS name has no colon
  if (name.empty()) return false;
  int dots = 0;
  for (char c : name) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3;
}

}  // namespace detail

// Checks what can be checked without the TLS library. Backends call it first.
inline result<void> validate(const tls_config& cfg, tls_config_error* diag = nullptr) {
  using detail::config_fail;
  const std::string_view name = cfg.server_name;
  if (name.empty()) return config_fail(diag, errc::invalid_argument, tls_config_item::server_name, "server name is required");
  if (name.size() > 253) return config_fail(diag, errc::invalid_argument, tls_config_item::server_name, "server name longer than 253 characters");
  for (char c : name) {
    // Anything outside the host name alphabet is a configuration mistake (a URL, a port, a space);
    // '*' would make the client accept any certificate of a wildcard domain.
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                    c == ':' || c == '_';
    if (!ok) return config_fail(diag, errc::invalid_argument, tls_config_item::server_name, "server name is not a host name or IP address");
  }
  if (cfg.trust_anchors.empty()) {
    return config_fail(diag, errc::tls_bad_credentials, tls_config_item::trust_anchor, "at least one trust anchor is required");
  }
  const bool has_key = !std::holds_alternative<std::monostate>(cfg.client_key);
  if (has_key && cfg.client_certificate.empty()) {
    return config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_certificate, "a client key needs a client certificate");
  }
  if (!has_key && !cfg.client_certificate.empty()) {
    return config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_key, "a client certificate needs a client key");
  }
  for (std::size_t i = 0; i < cfg.alpn.size(); ++i) {
    const auto& p = cfg.alpn[i];
    if (p.empty() || p.size() > 255 || p.find(',') != std::string::npos) {
      return config_fail(diag, errc::invalid_argument, tls_config_item::alpn, "ALPN names are 1 to 255 bytes without ','", i);
    }
  }
  if (static_cast<int>(cfg.min_version) > static_cast<int>(cfg.max_version)) {
    return config_fail(diag, errc::invalid_argument, tls_config_item::version_range, "min_version above max_version");
  }
  return success();
}

}  // namespace thingwell::net
