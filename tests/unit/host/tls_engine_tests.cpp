// The wolfSSL engine against a wolfSSL server through memory: handshake, data both ways, close_notify,
// byte-at-a-time transfer, back-pressure, the ClientHello we send, and every refusal mapped to its errc.
#include <doctest/doctest.h>

#include <thingwell/core/config.hpp>

#if THINGWELL_WITH_WOLFSSL

#include <ostream>  // doctest prints std::error_code through <system_error>'s operator<<, which needs it
#include <filesystem>
#include <unistd.h>  // mkdtemp, rmdir

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <unordered_map>
#include <vector>

#include <thingwell/net/tls_config.hpp>
#include <thingwell/net/tls_wolfssl.hpp>

// ---- helpers: certificates made in-process with wolfCrypt (no openssl binary, milliseconds per
// certificate), and a TLS server built directly on wolfSSL's server API that talks to the engine
// through memory.

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <thingwell/core/bytes.hpp>
#include <thingwell/net/tls_wolfssl.hpp>

namespace tls_test {

inline void check(int rc, const char* what) {
  if (rc < 0) throw std::runtime_error(std::string(what) + " failed: " + std::to_string(rc));
}

class random_source {
 public:
  random_source() { check(wc_InitRng(&rng_), "wc_InitRng"); }
  ~random_source() { wc_FreeRng(&rng_); }
  WC_RNG* get() { return &rng_; }

 private:
  WC_RNG rng_{};
};

inline random_source& rng() {
  static random_source r;
  return r;
}

inline std::string der_to_pem(const std::vector<byte>& der, int type) {
  std::vector<byte> pem(der.size() * 2 + 256);
  const int n = wc_DerToPem(der.data(), static_cast<word32>(der.size()), pem.data(), static_cast<word32>(pem.size()), type);
  check(n, "wc_DerToPem");
  return std::string(reinterpret_cast<const char*>(pem.data()), static_cast<std::size_t>(n));
}

enum class key_kind { ec_p256, rsa_2048 };

class test_key {
 public:
  explicit test_key(key_kind kind) : kind_(kind) {
    if (kind == key_kind::ec_p256) {
      ecc_ = std::make_unique<ecc_key>();
      check(wc_ecc_init(ecc_.get()), "wc_ecc_init");
      check(wc_ecc_make_key(rng().get(), 32, ecc_.get()), "wc_ecc_make_key");
    } else {
      rsa_ = std::make_unique<RsaKey>();
      check(wc_InitRsaKey(rsa_.get(), nullptr), "wc_InitRsaKey");
      check(wc_RsaSetRNG(rsa_.get(), rng().get()), "wc_RsaSetRNG");
      check(wc_MakeRsaKey(rsa_.get(), 2048, WC_RSA_EXPONENT, rng().get()), "wc_MakeRsaKey");
    }
  }
  ~test_key() {
    if (ecc_) wc_ecc_free(ecc_.get());
    if (rsa_) wc_FreeRsaKey(rsa_.get());
  }
  test_key(const test_key&) = delete;
  test_key& operator=(const test_key&) = delete;

  int type() const { return kind_ == key_kind::ec_p256 ? ECC_TYPE : RSA_TYPE; }
  void* get() const { return ecc_ ? static_cast<void*>(ecc_.get()) : static_cast<void*>(rsa_.get()); }
  int signature_type() const { return kind_ == key_kind::ec_p256 ? CTC_SHA256wECDSA : CTC_SHA256wRSA; }

  // SEC1 ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY").
  std::string traditional_pem() const {
    std::vector<byte> der(4096);
    int n = ecc_ ? wc_EccKeyToDer(ecc_.get(), der.data(), static_cast<word32>(der.size()))
                 : wc_RsaKeyToDer(rsa_.get(), der.data(), static_cast<word32>(der.size()));
    check(n, "key to DER");
    der.resize(static_cast<std::size_t>(n));
    return der_to_pem(der, ecc_ ? ECC_PRIVATEKEY_TYPE : PRIVATEKEY_TYPE);
  }

  // PKCS#8 ("PRIVATE KEY"), what openssl writes by default.
  std::string pkcs8_pem() const {
    std::vector<byte> der(4096);
    word32 n = static_cast<word32>(der.size());
    if (ecc_) {
      check(wc_EccKeyToPKCS8(ecc_.get(), der.data(), &n), "wc_EccKeyToPKCS8");
    } else {
      std::vector<byte> pkcs1(4096);
      const int m = wc_RsaKeyToDer(rsa_.get(), pkcs1.data(), static_cast<word32>(pkcs1.size()));
      check(m, "wc_RsaKeyToDer");
      check(wc_CreatePKCS8Key(der.data(), &n, pkcs1.data(), static_cast<word32>(m), RSAk, nullptr, 0), "wc_CreatePKCS8Key");
    }
    der.resize(n);
    return der_to_pem(der, PKCS8_PRIVATEKEY_TYPE);
  }

 private:
  key_kind kind_;
  std::unique_ptr<ecc_key> ecc_;
  std::unique_ptr<RsaKey> rsa_;
};

// X.509 Time as wolfSSL's Cert.beforeDate/afterDate expect it: the whole TLV (UTCTime).
inline void set_time(byte* out, int& size, std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[64];
  std::snprintf(text, sizeof text, "%02d%02d%02d%02d%02d%02dZ", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  out[0] = 0x17;  // UTCTime
  out[1] = 13;
  std::memcpy(out + 2, text, 13);
  size = 15;
}

struct cert_spec {
  std::string common_name;
  std::vector<std::string> dns_names;  // subjectAltName dNSName entries
  bool is_ca = false;
  long valid_from = -3600;  // seconds relative to now
  long valid_until = 365L * 24 * 3600;
};

struct issued {
  std::vector<byte> der;
  std::string pem;
};

// Signs `spec` for `subject` with `issuer_key`; `issuer` null makes it self-signed.
inline issued issue(const cert_spec& spec, const test_key& subject, const test_key& issuer_key, const issued* issuer) {
  auto cert = std::make_unique<Cert>();
  check(wc_InitCert(cert.get()), "wc_InitCert");
  std::strncpy(cert->subject.commonName, spec.common_name.c_str(), CTC_NAME_SIZE - 1);
  std::strncpy(cert->subject.org, "thingwell tests", CTC_NAME_SIZE - 1);
  cert->sigType = issuer_key.signature_type();
  cert->isCA = spec.is_ca ? 1 : 0;
  const std::time_t now = std::time(nullptr);
  set_time(cert->beforeDate, cert->beforeDateSz, now + spec.valid_from);
  set_time(cert->afterDate, cert->afterDateSz, now + spec.valid_until);
  if (!spec.dns_names.empty()) {
    // GeneralNames ::= SEQUENCE OF GeneralName; dNSName is [2] IA5String.
    std::vector<byte> names;
    for (const auto& n : spec.dns_names) {
      names.push_back(0x82);
      names.push_back(static_cast<byte>(n.size()));
      names.insert(names.end(), n.begin(), n.end());
    }
    cert->altNames[0] = 0x30;
    cert->altNames[1] = static_cast<byte>(names.size());
    std::memcpy(cert->altNames + 2, names.data(), names.size());
    cert->altNamesSz = static_cast<int>(names.size() + 2);
  }
  if (spec.is_ca) {
    check(wc_SetKeyUsage(cert.get(), "keyCertSign,cRLSign,digitalSignature"), "wc_SetKeyUsage");
    check(wc_SetSubjectKeyIdFromPublicKey_ex(cert.get(), subject.type(), subject.get()), "skid");
  } else {
    check(wc_SetKeyUsage(cert.get(), "digitalSignature,keyEncipherment"), "wc_SetKeyUsage");
  }
  if (issuer != nullptr) {
    check(wc_SetIssuerBuffer(cert.get(), issuer->der.data(), static_cast<int>(issuer->der.size())), "wc_SetIssuerBuffer");
    check(wc_SetAuthKeyIdFromPublicKey_ex(cert.get(), issuer_key.type(), issuer_key.get()), "akid");
  }
  std::vector<byte> der(8192);
  check(wc_MakeCert_ex(cert.get(), der.data(), static_cast<word32>(der.size()), subject.type(), subject.get(), rng().get()), "wc_MakeCert_ex");
  const int n = wc_SignCert_ex(cert->bodySz, cert->sigType, der.data(), static_cast<word32>(der.size()), issuer_key.type(), issuer_key.get(),
                               rng().get());
  check(n, "wc_SignCert_ex");
  der.resize(static_cast<std::size_t>(n));
  issued out;
  out.pem = der_to_pem(der, CERT_TYPE);
  out.der = std::move(der);
  return out;
}

// A CA with its key, able to issue leaves.
struct authority {
  explicit authority(const std::string& name) : key(key_kind::ec_p256) {
    cert = issue({name, {}, true, -3600, 10L * 365 * 24 * 3600}, key, key, nullptr);
  }
  test_key key;
  issued cert;
};

struct credential {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8
  std::string key_traditional_pem;
};

inline credential make_leaf(const authority& ca, const cert_spec& spec, key_kind kind = key_kind::ec_p256) {
  test_key key(kind);
  credential c;
  c.cert_pem = issue(spec, key, ca.key, &ca.cert).pem;
  c.key_pem = key.pkcs8_pem();
  c.key_traditional_pem = key.traditional_pem();
  return c;
}

// Everything the tests need, made once per process: generating RSA keys costs ~100 ms each.
struct pki {
  authority root{"thingwell unit root"};
  authority rogue{"thingwell unit rogue"};
  credential server = make_leaf(root, {"localhost", {"localhost"}});
  credential server_rsa = make_leaf(root, {"localhost", {"localhost"}}, key_kind::rsa_2048);
  credential server_wildcard = make_leaf(root, {"*.iot.example.com", {"*.iot.example.com"}});
  credential server_expired = make_leaf(root, {"localhost", {"localhost"}, false, -30L * 86400, -86400});
  credential server_not_yet_valid = make_leaf(root, {"localhost", {"localhost"}, false, 30L * 86400, 60L * 86400});
  credential server_wrong_host = make_leaf(root, {"wrong.example", {"wrong.example"}});
  credential server_untrusted = make_leaf(rogue, {"localhost", {"localhost"}});
  credential server_self_signed = [] {
    test_key key(key_kind::ec_p256);
    credential c;
    c.cert_pem = issue({"localhost", {"localhost"}}, key, key, nullptr).pem;
    c.key_pem = key.pkcs8_pem();
    return c;
  }();
  credential client = make_leaf(root, {"device-1", {}});
  credential client_rsa = make_leaf(root, {"device-rsa", {}}, key_kind::rsa_2048);
  credential client_untrusted = make_leaf(rogue, {"device-1", {}});

  static pki& shared() {
    static pki p;
    return p;
  }
};

// ---- a wolfSSL server over memory -----------------------------------------------------------------

struct server_options {
  std::string cert_pem;
  std::string key_pem;
  std::string client_ca_pem;  // empty: no client authentication
  WOLFSSL_METHOD* (*method)() = wolfSSLv23_server_method;
  std::string alpn;  // empty: ALPN not supported by the server
};

class memory_server {
 public:
  explicit memory_server(const server_options& o) {
    ctx_ = wolfSSL_CTX_new(o.method());
    if (ctx_ == nullptr) throw std::runtime_error("server ctx");
    // Old-version servers in these tests must still be able to offer their one version.
    wolfSSL_CTX_SetMinVersion(ctx_, WOLFSSL_TLSV1);
    check(wolfSSL_CTX_use_certificate_chain_buffer(ctx_, reinterpret_cast<const byte*>(o.cert_pem.data()), static_cast<long>(o.cert_pem.size())) - 1,
          "server cert");
    check(wolfSSL_CTX_use_PrivateKey_buffer(ctx_, reinterpret_cast<const byte*>(o.key_pem.data()), static_cast<long>(o.key_pem.size()),
                                            WOLFSSL_FILETYPE_PEM) - 1,
          "server key");
    if (!o.client_ca_pem.empty()) {
      check(wolfSSL_CTX_load_verify_buffer(ctx_, reinterpret_cast<const byte*>(o.client_ca_pem.data()), static_cast<long>(o.client_ca_pem.size()),
                                           WOLFSSL_FILETYPE_PEM) - 1,
            "server client CA");
      wolfSSL_CTX_set_verify(ctx_, WOLFSSL_VERIFY_PEER | WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    } else {
      wolfSSL_CTX_set_verify(ctx_, WOLFSSL_VERIFY_NONE, nullptr);
    }
    wolfSSL_CTX_SetIORecv(ctx_, &recv_cb);
    wolfSSL_CTX_SetIOSend(ctx_, &send_cb);
    ssl_ = wolfSSL_new(ctx_);
    wolfSSL_SetIOReadCtx(ssl_, this);
    wolfSSL_SetIOWriteCtx(ssl_, this);
    if (!o.alpn.empty()) {
      std::string list = o.alpn;
      wolfSSL_UseALPN(ssl_, list.data(), static_cast<unsigned>(list.size()), WOLFSSL_ALPN_FAILED_ON_MISMATCH);
    }
  }
  ~memory_server() {
    wolfSSL_free(ssl_);
    wolfSSL_CTX_free(ctx_);
  }
  memory_server(const memory_server&) = delete;
  memory_server& operator=(const memory_server&) = delete;

  // One step of the server's handshake; true once done. Errors are remembered in error().
  bool accept() {
    if (done_ || error_ != 0) return done_;
    const int rc = wolfSSL_accept(ssl_);
    if (rc == WOLFSSL_SUCCESS) return done_ = true;
    const int err = wolfSSL_get_error(ssl_, rc);
    if (err != WOLFSSL_ERROR_WANT_READ && err != WOLFSSL_ERROR_WANT_WRITE) error_ = err;
    return false;
  }

  // Plaintext the server has received so far (reads everything available).
  std::string read_all() {
    char buf[4096];
    while (true) {
      const int rc = wolfSSL_read(ssl_, buf, sizeof buf);
      if (rc > 0) {
        received_.append(buf, static_cast<std::size_t>(rc));
        continue;
      }
      const int err = wolfSSL_get_error(ssl_, rc);
      if (err == WOLFSSL_ERROR_ZERO_RETURN) got_close_notify_ = true;
      else if (err != WOLFSSL_ERROR_WANT_READ && err != WOLFSSL_ERROR_WANT_WRITE) error_ = err;
      break;
    }
    return received_;
  }

  void write(std::string_view text) {
    const int rc = wolfSSL_write(ssl_, text.data(), static_cast<int>(text.size()));
    if (rc != static_cast<int>(text.size())) throw std::runtime_error("server write: " + std::to_string(wolfSSL_get_error(ssl_, rc)));
  }
  void close_notify() { wolfSSL_shutdown(ssl_); }

  WOLFSSL* ssl() { return ssl_; }
  int error() const { return error_; }
  bool got_close_notify() const { return got_close_notify_; }

  std::vector<byte> to_client;    // ciphertext the server produced
  std::vector<byte> from_client;  // ciphertext waiting for the server
  std::size_t from_client_pos = 0;

 private:
  static int recv_cb(WOLFSSL*, char* buf, int sz, void* io) {
    auto* s = static_cast<memory_server*>(io);
    const std::size_t avail = s->from_client.size() - s->from_client_pos;
    if (avail == 0) return WOLFSSL_CBIO_ERR_WANT_READ;
    const std::size_t n = std::min<std::size_t>(avail, static_cast<std::size_t>(sz));
    std::memcpy(buf, s->from_client.data() + s->from_client_pos, n);
    s->from_client_pos += n;
    if (s->from_client_pos == s->from_client.size()) {
      s->from_client.clear();
      s->from_client_pos = 0;
    }
    return static_cast<int>(n);
  }
  static int send_cb(WOLFSSL*, char* buf, int sz, void* io) {
    auto* s = static_cast<memory_server*>(io);
    s->to_client.insert(s->to_client.end(), buf, buf + sz);
    return sz;
  }

  WOLFSSL_CTX* ctx_ = nullptr;
  WOLFSSL* ssl_ = nullptr;
  bool done_ = false;
  int error_ = 0;
  bool got_close_notify_ = false;
  std::string received_;
};

// Moves ciphertext between an engine and a memory_server, at most `chunk` bytes per direction per step
// (1 for byte-at-a-time transfer).
struct memory_link {
  thingwell::net::wolfssl_engine& client;
  memory_server& server;
  std::size_t chunk = static_cast<std::size_t>(-1);
  std::size_t client_to_server_bytes = 0;
  std::size_t server_to_client_bytes = 0;

  bool step() {
    bool moved = false;
    auto out = client.ciphertext_out();
    if (!out.empty()) {
      const std::size_t n = std::min(out.size(), chunk);
      server.from_client.insert(server.from_client.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
      client.ciphertext_sent(n);
      client_to_server_bytes += n;
      moved = true;
    }
    if (!server.to_client.empty()) {
      auto space = client.ciphertext_in_space();
      const std::size_t n = std::min({space.size(), server.to_client.size(), chunk});
      if (n != 0) {
        std::memcpy(space.data(), server.to_client.data(), n);
        server.to_client.erase(server.to_client.begin(), server.to_client.begin() + static_cast<std::ptrdiff_t>(n));
        client.ciphertext_received(n);
        server_to_client_bytes += n;
        moved = true;
      }
    }
    return moved;
  }

  // Runs both handshakes until the client's is decided, then lets the server read the client's last
  // flight (a TLS 1.3 server judges the client certificate only then). Returns the client's result.
  thingwell::result<void> handshake(int max_steps = 1'000'000) {
    thingwell::result<void> r = thingwell::errc::would_block;
    for (int i = 0; i < max_steps; ++i) {
      r = client.handshake();
      bool moved = step();
      server.accept();
      moved = step() || moved;
      if (r.has_value() || r.error() != thingwell::errc::would_block) break;
      if (!moved) break;  // neither side can make progress
    }
    for (int j = 0; j < 64; ++j) {
      server.accept();
      if (!step()) break;
    }
    return r;
  }
};

}  // namespace tls_test

namespace tw = thingwell;
namespace net = thingwell::net;
using tw::errc;
using namespace tls_test;

namespace {

net::tls_config client_config(const std::string& name = "localhost") {
  net::tls_config cfg;
  cfg.server_name = name;
  cfg.trust_anchors.push_back(net::pem_buffer{pki::shared().root.cert.pem});
  return cfg;
}

net::tls_config client_config_with_cert(const credential& c, const std::string& name = "localhost") {
  net::tls_config cfg = client_config(name);
  cfg.client_certificate.push_back(net::pem_buffer{c.cert_pem});
  cfg.client_key = net::pem_buffer{c.key_pem};
  return cfg;
}

net::wolfssl_context make_context(const net::tls_config& cfg) {
  net::tls_config_error diag;
  auto ctx = net::wolfssl_context::create(cfg, &diag);
  INFO("item: " << net::describe(diag.item) << " reason: " << diag.reason << " native: " << diag.native_error);
  REQUIRE(ctx.has_value());
  return std::move(ctx).value();
}

net::wolfssl_engine make_engine(const net::wolfssl_context& ctx, net::tls_buffer_sizes sizes = {}) {
  auto e = net::wolfssl_engine::create(ctx, sizes);
  REQUIRE(e.has_value());
  return std::move(e).value();
}

server_options server_with(const credential& c) {
  server_options o;
  o.cert_pem = c.cert_pem;
  o.key_pem = c.key_pem;
  return o;
}

// Writes all of `text` through the engine, moving ciphertext as needed; the server reads it.
void send_all(memory_link& link, std::string_view text) {
  std::size_t done = 0;
  for (int i = 0; done < text.size() && i < 1'000'000; ++i) {
    auto r = link.client.write(tw::as_bytes(text.substr(done)));
    if (r) done += *r;
    else REQUIRE(r.error() == errc::would_block);
    link.step();
  }
  while (link.step()) {
  }
  REQUIRE(done == text.size());
}

// Reads from the engine until `n` bytes arrived.
std::string receive(memory_link& link, std::size_t n) {
  std::string got;
  tw::byte buf[1024];
  for (int i = 0; got.size() < n && i < 1'000'000; ++i) {
    link.step();
    auto r = link.client.read(buf);
    if (r) {
      REQUIRE(*r > 0);
      got.append(reinterpret_cast<const char*>(buf), *r);
    } else {
      REQUIRE(r.error() == errc::would_block);
    }
  }
  return got;
}

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

// The extensions and cipher suites of a ClientHello in the first record the engine sends.
struct client_hello {
  std::vector<std::uint16_t> suites;
  std::vector<std::uint16_t> extensions;
  std::string sni;
  std::vector<std::string> alpn;
};

client_hello parse_client_hello(tw::bytes_view rec) {
  client_hello h;
  tw::byte_reader r(rec);
  std::uint8_t type = 0, hs_type = 0, len_hi = 0;
  std::uint16_t version = 0, rec_len = 0, len_lo = 0, suites_len = 0, ext_len = 0;
  REQUIRE(r.u8(type));
  REQUIRE(type == 22);
  REQUIRE(r.u16(version));
  REQUIRE(r.u16(rec_len));
  REQUIRE(r.u8(hs_type));
  REQUIRE(hs_type == 1);
  REQUIRE(r.u8(len_hi));
  REQUIRE(r.u16(len_lo));
  REQUIRE(r.skip(2 + 32));
  std::uint8_t sid = 0, comp = 0;
  REQUIRE(r.u8(sid));
  REQUIRE(r.skip(sid));
  REQUIRE(r.u16(suites_len));
  for (int i = 0; i < suites_len / 2; ++i) {
    std::uint16_t s = 0;
    REQUIRE(r.u16(s));
    h.suites.push_back(s);
  }
  REQUIRE(r.u8(comp));
  REQUIRE(r.skip(comp));
  REQUIRE(r.u16(ext_len));
  tw::bytes_view exts;
  REQUIRE(r.take(ext_len, exts));
  tw::byte_reader e(exts);
  while (!e.empty()) {
    std::uint16_t et = 0;
    tw::bytes_view body;
    REQUIRE(e.u16(et));
    REQUIRE(e.prefixed(body));
    h.extensions.push_back(et);
    tw::byte_reader b(body);
    if (et == 0) {  // server_name: list length, type 0, name
      std::uint16_t list = 0;
      std::uint8_t nt = 0;
      tw::bytes_view name;
      REQUIRE(b.u16(list));
      REQUIRE(b.u8(nt));
      REQUIRE(b.prefixed(name));
      h.sni = std::string(tw::as_string(name));
    } else if (et == 16) {  // ALPN: list length, then length-prefixed names
      std::uint16_t list = 0;
      REQUIRE(b.u16(list));
      while (!b.empty()) {
        std::uint8_t n = 0;
        tw::bytes_view name;
        REQUIRE(b.u8(n));
        REQUIRE(b.take(n, name));
        h.alpn.emplace_back(tw::as_string(name));
      }
    }
  }
  return h;
}

// Counts what wolfSSL allocates while `active`: the client's calls are bracketed, the in-process
// server's are not, so the numbers are the client's alone.
struct allocation_meter {
  static allocation_meter& get() {
    static allocation_meter m;
    return m;
  }
  bool active = false;
  std::size_t live = 0;
  std::size_t peak = 0;
  std::unordered_map<void*, std::size_t> blocks;

  static void* on_malloc(size_t n) {
    void* p = std::malloc(n);
    get().note(p, n);
    return p;
  }
  static void on_free(void* p) {
    get().forget(p);
    std::free(p);
  }
  static void* on_realloc(void* p, size_t n) {
    get().forget(p);
    void* q = std::realloc(p, n);
    get().note(q, n);
    return q;
  }
  void note(void* p, std::size_t n) {
    if (!active || p == nullptr) return;
    blocks[p] = n;
    live += n;
    peak = std::max(peak, live);
  }
  void forget(void* p) {
    auto it = blocks.find(p);
    if (it == blocks.end()) return;
    live -= it->second;
    blocks.erase(it);
  }
  void reset_peak() { peak = live; }
};

template <class F>
auto metered(F&& f) {
  auto& m = allocation_meter::get();
  m.active = true;
  auto r = f();
  m.active = false;
  return r;
}

bool contains(const std::vector<std::uint16_t>& v, std::uint16_t x) {
  for (auto y : v)
    if (y == x) return true;
  return false;
}

}  // namespace

TEST_SUITE("tls.wolfssl") {

TEST_CASE("handshake, data both ways and close_notify with TLS 1.3 and TLS 1.2") {
  auto& p = pki::shared();
  for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
    const bool tls13 = method == wolfTLSv1_3_server_method;
    CAPTURE(tls13);
    auto ctx = make_context(client_config_with_cert(p.client));
    auto engine = make_engine(ctx);
    server_options o = server_with(p.server);
    o.client_ca_pem = p.root.cert.pem;
    o.method = method;
    memory_server server(o);
    memory_link link{engine, server};

    auto hs = link.handshake();
    REQUIRE(hs.has_value());
    CHECK(engine.established());
    CHECK(std::string(engine.protocol_version()) == (tls13 ? "TLSv1.3" : "TLSv1.2"));
    CHECK(engine.certificate_requested());
    CHECK(server.error() == 0);

    send_all(link, "hello broker");
    CHECK(server.read_all() == "hello broker");

    server.write("hello device");
    CHECK(receive(link, 12) == "hello device");

    // A large message crosses several records each way.
    const std::string big = pattern(100'000);
    send_all(link, big);
    CHECK(server.read_all() == "hello broker" + big);
    server.write(big);
    CHECK(receive(link, big.size()) == big);

    // The server says goodbye: read() reports a clean end of stream, repeatedly.
    server.close_notify();
    link.step();
    tw::byte buf[16];
    auto r = engine.read(buf);
    REQUIRE(r.has_value());
    CHECK(*r == 0);
    CHECK(engine.current_state() == net::wolfssl_engine::state::closed);
    r = engine.read(buf);
    REQUIRE(r.has_value());
    CHECK(*r == 0);
    CHECK(engine.write(tw::as_bytes("late")).error() == errc::closed);
  }
}

TEST_CASE("shutdown sends close_notify") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config());
  auto engine = make_engine(ctx);
  memory_server server(server_with(p.server));
  memory_link link{engine, server};
  REQUIRE(link.handshake().has_value());
  send_all(link, "bye");
  REQUIRE(engine.shutdown().has_value());
  CHECK(!engine.ciphertext_out().empty());
  link.step();
  CHECK(server.read_all() == "bye");
  CHECK(server.got_close_notify());
  CHECK(engine.write(tw::as_bytes("more")).error() == errc::closed);
}

TEST_CASE("byte-at-a-time transfer through one-byte buffers") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config_with_cert(p.client));
  // The smallest buffers possible: every record crosses the engine one byte per driver call.
  auto engine = make_engine(ctx, {1, 1});
  server_options o = server_with(p.server);
  o.client_ca_pem = p.root.cert.pem;
  memory_server server(o);
  memory_link link{engine, server, 1};
  auto hs = link.handshake();
  INFO("native " << engine.last_native_error() << " server " << server.error() << " alert " << engine.last_alert_received() << " c2s "
                  << link.client_to_server_bytes << " s2c " << link.server_to_client_bytes << " out " << engine.ciphertext_out().size()
                  << " pending to client " << server.to_client.size() << " from client " << server.from_client.size() << " in space "
                  << engine.ciphertext_in_space().size() << " state " << int(engine.current_state()) << " err " << hs.error());
  REQUIRE(hs.has_value());
  CHECK(link.client_to_server_bytes > 500);  // our certificate went through byte by byte

  // write() with a buffer smaller than a record: wolfSSL holds the record, write() reports
  // would_block until it is out, and the same bytes are offered again.
  send_all(link, "abc");
  CHECK(server.read_all() == "abc");
  const std::string msg = pattern(3000);
  server.write(msg);
  CHECK(receive(link, msg.size()) == msg);
}

TEST_CASE("a full output buffer blocks writes until ciphertext is sent, and pending bytes stay put") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config());
  auto engine = make_engine(ctx, {net::tls_buffer_sizes::full_record, 4096});
  memory_server server(server_with(p.server));
  memory_link link{engine, server};
  REQUIRE(link.handshake().has_value());

  const std::string data = pattern(20'000);
  auto first = engine.write(tw::as_bytes(data));
  REQUIRE(first.has_value());
  CHECK(*first > 3000);
  CHECK(*first < 4096);
  CHECK(engine.ciphertext_out().size() <= 4096);

  // Nothing sent yet: the buffer cannot take another record.
  auto blocked = engine.write(tw::as_bytes(data).subspan(*first));
  REQUIRE(!blocked.has_value());
  CHECK(blocked.error() == errc::would_block);

  // An asynchronous driver holds a view while the application keeps writing after a partial send.
  const auto view_before = engine.ciphertext_out();
  const std::vector<tw::byte> snapshot(view_before.begin(), view_before.end());
  engine.ciphertext_sent(1000);
  const auto view = engine.ciphertext_out();
  const std::vector<tw::byte> pending(view.begin(), view.end());
  REQUIRE(std::equal(pending.begin(), pending.end(), snapshot.begin() + 1000));
  auto more = engine.write(tw::as_bytes(data).subspan(*first));
  REQUIRE(more.has_value());  // 1000 bytes freed: room for a smaller record
  CHECK(tw::equal(tw::bytes_view(view.data(), pending.size()), pending));  // still where the driver saw them
  server.from_client.insert(server.from_client.end(), snapshot.begin(), snapshot.begin() + 1000);

  std::size_t done = *first + *more;
  while (link.step()) {
  }
  send_all(link, std::string_view(data).substr(done));
  CHECK(server.read_all() == data);
}

TEST_CASE("ClientHello: SNI, ALPN, strong suites only, no session ticket") {
  auto& p = pki::shared();
  auto cfg = client_config("abc-ats.iot.example.com");
  cfg.alpn.emplace_back(net::alpn_for_port(443));
  auto ctx = make_context(cfg);
  auto engine = make_engine(ctx);
  REQUIRE(engine.handshake().error() == errc::would_block);
  const auto hello = parse_client_hello(engine.ciphertext_out());
  CHECK(hello.sni == "abc-ats.iot.example.com");
  REQUIRE(hello.alpn.size() == 1);
  CHECK(hello.alpn[0] == "x-amzn-mqtt-ca");
  CHECK(!contains(hello.extensions, 35));  // session_ticket
  const std::vector<std::uint16_t> allowed = {0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x00FF};
  for (auto s : hello.suites) {
    CAPTURE(s);
    CHECK(contains(allowed, s));
  }
  CHECK(contains(hello.suites, 0xC02B));  // ECDHE-ECDSA-AES128-GCM-SHA256, AWS's recommendation
  CHECK(contains(hello.suites, 0x1301));
  (void)p;
}

TEST_CASE("an IP literal is verified but not sent as SNI") {
  auto cfg = client_config("127.0.0.1");
  auto ctx = make_context(cfg);
  auto engine = make_engine(ctx);
  REQUIRE(engine.handshake().error() == errc::would_block);
  const auto hello = parse_client_hello(engine.ciphertext_out());
  CHECK(!contains(hello.extensions, 0));
}

TEST_CASE("alpn_for_port") {
  CHECK(net::alpn_for_port(443) == "x-amzn-mqtt-ca");
  CHECK(net::alpn_for_port(443, net::aws_application::https) == "x-amzn-http-ca");
  CHECK(net::alpn_for_port(8883).empty());
  CHECK(net::alpn_for_port(8443, net::aws_application::https).empty());
}

TEST_CASE("ALPN agreed, refused, or ignored by the server") {
  auto& p = pki::shared();
  auto cfg = client_config();
  cfg.alpn = {"x-amzn-mqtt-ca"};
  auto ctx = make_context(cfg);
  SUBCASE("agreed") {
    auto engine = make_engine(ctx);
    server_options o = server_with(p.server);
    o.alpn = "x-amzn-mqtt-ca";
    memory_server server(o);
    memory_link link{engine, server};
    REQUIRE(link.handshake().has_value());
    CHECK(engine.alpn_selected() == "x-amzn-mqtt-ca");
  }
  SUBCASE("server speaks another protocol") {
    auto engine = make_engine(ctx);
    server_options o = server_with(p.server);
    o.alpn = "http/1.1";
    memory_server server(o);
    memory_link link{engine, server};
    auto r = link.handshake();
    REQUIRE(!r.has_value());
    CHECK(r.error() == errc::tls_alpn_rejected);
  }
  SUBCASE("server without ALPN") {
    auto engine = make_engine(ctx);
    memory_server server(server_with(p.server));
    memory_link link{engine, server};
    auto r = link.handshake();
    REQUIRE(!r.has_value());
    CHECK(r.error() == errc::tls_alpn_rejected);
  }
}

TEST_CASE("server certificate refusals") {
  auto& p = pki::shared();
  struct refusal {
    std::string name;
    const credential* server;
    const char* host;
    errc expected;
  };
  const refusal cases[] = {
      {"issued by an unknown CA", &p.server_untrusted, "localhost", errc::tls_certificate_untrusted},
      {"self-signed", &p.server_self_signed, "localhost", errc::tls_certificate_untrusted},
      {"expired", &p.server_expired, "localhost", errc::tls_certificate_expired},
      {"not yet valid", &p.server_not_yet_valid, "localhost", errc::tls_certificate_expired},
      {"for another host", &p.server_wrong_host, "localhost", errc::tls_hostname_mismatch},
      {"wildcard one level too deep", &p.server_wildcard, "a.b.iot.example.com", errc::tls_hostname_mismatch},
  };
  for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CAPTURE(method == wolfTLSv1_3_server_method);
      auto ctx = make_context(client_config(c.host));
      auto engine = make_engine(ctx);
      server_options o = server_with(*c.server);
      o.method = method;
      memory_server server(o);
      memory_link link{engine, server};
      auto r = link.handshake();
      REQUIRE(!r.has_value());
      CHECK(r.error() == c.expected);
      CHECK(engine.error() == c.expected);
      CHECK(engine.last_native_error() != 0);
      CHECK(engine.current_state() == net::wolfssl_engine::state::failed);
      // The failure is sticky until reset().
      CHECK(engine.handshake().error() == c.expected);
      tw::byte buf[4];
      CHECK(engine.read(buf).error() == c.expected);
      MESSAGE(c.name << ": native " << engine.last_native_error() << ", verify " << engine.verify_error() << ", alert sent "
                     << engine.last_alert_sent());
    }
  }
}

TEST_CASE("a wildcard certificate matches one label") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config("abc-ats.iot.example.com"));
  auto engine = make_engine(ctx);
  memory_server server(server_with(p.server_wildcard));
  memory_link link{engine, server};
  CHECK(link.handshake().has_value());
}

TEST_CASE("RSA server certificate") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config());
  auto engine = make_engine(ctx);
  memory_server server(server_with(p.server_rsa));
  memory_link link{engine, server};
  REQUIRE(link.handshake().has_value());
  CHECK(std::string(engine.cipher_suite()).find("AES") != std::string::npos);
}

TEST_CASE("client certificate refused by the server") {
  auto& p = pki::shared();
  struct refusal {
    std::string name;
    const credential* client;  // null: none configured
  };
  const refusal cases[] = {{"no client certificate", nullptr}, {"client certificate from another CA", &p.client_untrusted}};
  for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
    const bool tls13 = method == wolfTLSv1_3_server_method;
    for (const auto& c : cases) {
      CAPTURE(c.name);
      CAPTURE(tls13);
      auto ctx = make_context(c.client ? client_config_with_cert(*c.client) : client_config());
      auto engine = make_engine(ctx);
      server_options o = server_with(p.server);
      o.client_ca_pem = p.root.cert.pem;
      o.method = method;
      memory_server server(o);
      memory_link link{engine, server};
      auto r = link.handshake();
      bool hung_up = false;
      if (!r.has_value() && r.error() == errc::would_block) {
        // wolfSSL's TLS 1.2 server drops a client without a certificate silently; a real server then
        // closes the connection, which is what the driver reports.
        CHECK(server.error() != 0);
        engine.ciphertext_eof();
        r = engine.handshake();
        hung_up = true;
      }
      tw::result<std::size_t> first_read = errc::would_block;
      if (r.has_value()) {
        // TLS 1.3: the client's handshake is over before the server has seen its certificate; the
        // refusal comes with the first read.
        CHECK(tls13);
        tw::byte buf[16];
        first_read = engine.read(buf);
        REQUIRE(!first_read.has_value());
        CHECK(first_read.error() == errc::tls_client_certificate_rejected);
      } else {
        CHECK(r.error() == errc::tls_client_certificate_rejected);
      }
      CHECK(engine.certificate_requested());
      MESSAGE(c.name << (tls13 ? " (TLS 1.3)" : " (TLS 1.2)") << ": refused " << std::string(r.has_value() ? "on first read" : "in handshake")
                     << std::string(hung_up ? " by hanging up" : "") << ", alert received " << engine.last_alert_received() << ", native "
                     << engine.last_native_error());
    }
  }
}

TEST_CASE("client key formats: PKCS#8 and SEC1 EC, PKCS#1 and PKCS#8 RSA") {
  auto& p = pki::shared();
  struct format {
    std::string name;
    const credential* cred;
    bool traditional;
  };
  const format formats[] = {{"EC PKCS#8", &p.client, false},
                            {"EC SEC1", &p.client, true},
                            {"RSA PKCS#8", &p.client_rsa, false},
                            {"RSA PKCS#1", &p.client_rsa, true}};
  for (const auto& f : formats) {
    CAPTURE(f.name);
    auto cfg = client_config();
    cfg.client_certificate.push_back(net::pem_buffer{f.cred->cert_pem});
    cfg.client_key = net::pem_buffer{f.traditional ? f.cred->key_traditional_pem : f.cred->key_pem};
    auto ctx = make_context(cfg);
    auto engine = make_engine(ctx);
    server_options o = server_with(p.server);
    o.client_ca_pem = p.root.cert.pem;
    memory_server server(o);
    memory_link link{engine, server};
    REQUIRE(link.handshake().has_value());
    send_all(link, "x");
    CHECK(server.read_all() == "x");
    CHECK(server.error() == 0);
  }
}

TEST_CASE("a server that only speaks TLS 1.1 is refused") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config());

  SUBCASE("it answers with a protocol_version alert (OpenSSL does)") {
    auto engine = make_engine(ctx);
    REQUIRE(engine.handshake().error() == errc::would_block);
    const tw::byte alert[] = {21, 3, 2, 0, 2, 2, 70};
    auto space = engine.ciphertext_in_space();
    std::memcpy(space.data(), alert, sizeof alert);
    engine.ciphertext_received(sizeof alert);
    CHECK(engine.handshake().error() == errc::tls_protocol_version);
    CHECK(engine.last_alert_received() == 70);
  }
  SUBCASE("it answers with a TLS 1.1 ServerHello") {
    auto engine = make_engine(ctx);
    REQUIRE(engine.handshake().error() == errc::would_block);
    std::vector<tw::byte> hello = {22, 3, 2, 0, 42, 2, 0, 0, 38, 3, 2};
    for (int i = 0; i < 32; ++i) hello.push_back(static_cast<tw::byte>(i));
    hello.insert(hello.end(), {0, 0xC0, 0x2B, 0});
    auto space = engine.ciphertext_in_space();
    std::memcpy(space.data(), hello.data(), hello.size());
    engine.ciphertext_received(hello.size());
    CHECK(engine.handshake().error() == errc::tls_protocol_version);
  }
  SUBCASE("wolfSSL's TLS 1.1 server answers handshake_failure, which names no cause") {
    auto engine = make_engine(ctx);
    server_options o = server_with(p.server);
    o.method = wolfTLSv1_1_server_method;
    memory_server server(o);
    memory_link link{engine, server};
    auto r = link.handshake();
    REQUIRE(!r.has_value());
    CHECK(r.error() == errc::tls_handshake_failed);
    CHECK(engine.last_alert_received() == 40);
  }
}

TEST_CASE("min_version TLS 1.3 refuses a TLS 1.2 server") {
  auto& p = pki::shared();
  auto cfg = client_config();
  cfg.min_version = net::tls_version::tls1_3;
  auto ctx = make_context(cfg);
  auto engine = make_engine(ctx);
  server_options o = server_with(p.server);
  o.method = wolfTLSv1_2_server_method;
  memory_server server(o);
  memory_link link{engine, server};
  auto r = link.handshake();
  REQUIRE(!r.has_value());
  MESSAGE("TLS 1.3-only client, TLS 1.2 server: native " << engine.last_native_error() << ", alert received " << engine.last_alert_received());
  CHECK(r.error() == errc::tls_protocol_version);
}

TEST_CASE("a key of the same type but another certificate is caught by the server") {
  // wolfSSL 5.5.4's key/certificate check compares only key types, so the context loads; the
  // server then fails our CertificateVerify.
  auto& p = pki::shared();
  for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
    auto cfg = client_config();
    cfg.client_certificate.push_back(net::pem_buffer{p.client.cert_pem});
    cfg.client_key = net::pem_buffer{p.client_untrusted.key_pem};
    auto ctx = make_context(cfg);
    auto engine = make_engine(ctx);
    server_options o = server_with(p.server);
    o.client_ca_pem = p.root.cert.pem;
    o.method = method;
    memory_server server(o);
    memory_link link{engine, server};
    auto r = link.handshake();
    if (r.has_value()) {
      tw::byte buf[4];
      auto first = engine.read(buf);
      REQUIRE(!first.has_value());
      CHECK(first.error() == errc::tls_client_certificate_rejected);
    } else {
      CHECK(r.error() == errc::tls_client_certificate_rejected);
    }
    MESSAGE("mismatched key: alert received " << engine.last_alert_received());
  }
}

TEST_CASE("the transport ending without close_notify is a reset, not an end of stream") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config());
  auto engine = make_engine(ctx);
  memory_server server(server_with(p.server));
  memory_link link{engine, server};
  REQUIRE(link.handshake().has_value());
  server.write("partial");
  CHECK(receive(link, 7) == "partial");
  engine.ciphertext_eof();
  tw::byte buf[16];
  auto r = engine.read(buf);
  REQUIRE(!r.has_value());
  CHECK(r.error() == errc::connection_reset);
}

TEST_CASE("reset() starts a new connection on the same engine; moving an engine mid-connection") {
  auto& p = pki::shared();
  auto ctx = make_context(client_config());
  auto engine = make_engine(ctx);
  {
    memory_server server(server_with(p.server_untrusted));
    memory_link link{engine, server};
    CHECK(link.handshake().error() == errc::tls_certificate_untrusted);
  }
  REQUIRE(engine.reset().has_value());
  memory_server server(server_with(p.server));
  {
    memory_link link{engine, server};
    REQUIRE(link.handshake().has_value());
    send_all(link, "one");
  }
  net::wolfssl_engine moved = std::move(engine);
  memory_link link{moved, server};
  send_all(link, "two");
  CHECK(server.read_all() == "onetwo");
  server.write("three");
  CHECK(receive(link, 5) == "three");
}

TEST_CASE("max_fragment_length keeps records small for an MCU-sized buffer") {
  auto& p = pki::shared();
  auto cfg = client_config();
  cfg.fragment_length = net::max_fragment_length::bytes_512;
  auto ctx = make_context(cfg);
  // 600 bytes each way: one 512-byte record plus its overhead fits.
  auto engine = make_engine(ctx, {600, 600});
  for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
    REQUIRE(engine.reset().has_value());
    server_options o = server_with(p.server);
    o.method = method;
    memory_server server(o);
    memory_link link{engine, server};
    REQUIRE(link.handshake().has_value());
    const std::string data = pattern(5000);
    CHECK(wolfSSL_GetMaxOutputSize(engine.native_handle()) == 512);
    auto w = engine.write(tw::as_bytes(data));
    REQUIRE(w.has_value());
    // A 512-byte record, then a smaller one in what is left of the 600 bytes.
    const auto first_record = engine.ciphertext_out().first(5);
    CHECK(((first_record[3] << 8) | first_record[4]) <= 512 + 256);
    CHECK(*w < 600);
    send_all(link, std::string_view(data).substr(*w));
    CHECK(server.read_all() == data);
    // The server's records are limited too (it agreed to the extension).
    CHECK(wolfSSL_GetMaxOutputSize(server.ssl()) == 512);
    server.write(data);
    CHECK(receive(link, data.size()) == data);
  }
}

TEST_CASE("calls out of order") {
  auto ctx = make_context(client_config());
  auto engine = make_engine(ctx);
  tw::byte buf[4];
  CHECK(engine.read(buf).error() == errc::not_connected);
  CHECK(engine.write(tw::as_bytes("x")).error() == errc::not_connected);
  CHECK(engine.shutdown().error() == errc::not_connected);
  net::wolfssl_engine empty;
  CHECK(empty.handshake().error() == errc::not_connected);
}

TEST_CASE("configuration errors name their cause") {
  auto& p = pki::shared();
  net::tls_config_error diag;

  SUBCASE("server name is required") {
    auto cfg = client_config("");
    auto r = net::wolfssl_context::create(cfg, &diag);
    CHECK(r.error() == errc::invalid_argument);
    CHECK(diag.item == net::tls_config_item::server_name);
  }
  SUBCASE("a URL is not a server name") {
    auto r = net::wolfssl_context::create(client_config("mqtts://broker:8883"), &diag);
    CHECK(r.error() == errc::invalid_argument);
  }
  SUBCASE("no trust anchor") {
    net::tls_config cfg;
    cfg.server_name = "localhost";
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::tls_bad_credentials);
    CHECK(diag.item == net::tls_config_item::trust_anchor);
  }
  SUBCASE("missing CA file") {
    net::tls_config cfg;
    cfg.server_name = "localhost";
    cfg.trust_anchors.push_back(net::pem_buffer{p.root.cert.pem});
    cfg.trust_anchors.push_back(net::pem_file{"/nonexistent/ca.pem"});
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::tls_bad_credentials);
    CHECK(diag.item == net::tls_config_item::trust_anchor);
    CHECK(diag.index == 1);
    CHECK(diag.source == "/nonexistent/ca.pem");
  }
  SUBCASE("garbage CA") {
    auto cfg = client_config();
    cfg.trust_anchors.push_back(net::pem_buffer{"not a certificate"});
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::tls_bad_credentials);
    CHECK(diag.index == 1);
    CHECK(diag.source == "<buffer>");
    CHECK(diag.native_error != 0);
  }
  SUBCASE("garbage key") {
    auto cfg = client_config();
    cfg.client_certificate.push_back(net::pem_buffer{p.client.cert_pem});
    cfg.client_key = net::pem_buffer{"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"};
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::tls_bad_credentials);
    CHECK(diag.item == net::tls_config_item::client_key);
  }
  SUBCASE("key of another type than the certificate") {
    auto cfg = client_config();
    cfg.client_certificate.push_back(net::pem_buffer{p.client.cert_pem});
    cfg.client_key = net::pem_buffer{p.client_rsa.key_pem};
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::tls_bad_credentials);
    CHECK(diag.item == net::tls_config_item::client_key);
    CHECK(std::string(diag.reason).find("match") != std::string::npos);
  }
  SUBCASE("certificate without key") {
    auto cfg = client_config();
    cfg.client_certificate.push_back(net::pem_buffer{p.client.cert_pem});
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::tls_bad_credentials);
    CHECK(diag.item == net::tls_config_item::client_key);
  }
  SUBCASE("cipher list with nothing usable") {
    auto cfg = client_config();
    cfg.cipher_list = "NO-SUCH-CIPHER";
    CHECK(net::wolfssl_context::create(cfg, &diag).error() == errc::invalid_argument);
    CHECK(diag.item == net::tls_config_item::cipher_list);
  }
  SUBCASE("credentials from files") {
    std::string pattern_path = (std::filesystem::temp_directory_path() / "thingwell-tls-XXXXXX").string();
    REQUIRE(mkdtemp(pattern_path.data()) != nullptr);
    const std::string dir = pattern_path;
    auto write = [&](const std::string& name, const std::string& text) {
      std::ofstream(dir + "/" + name) << text;
      return dir + "/" + name;
    };
    net::tls_config cfg;
    cfg.server_name = "localhost";
    cfg.trust_anchors.push_back(net::pem_file{write("ca.pem", p.root.cert.pem)});
    cfg.client_certificate.push_back(net::pem_file{write("cert.pem", p.client.cert_pem)});
    cfg.client_key = net::pem_file{write("key.pem", p.client.key_pem)};
    auto ctx = net::wolfssl_context::create(cfg, &diag);
    CHECK(ctx.has_value());
    for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) std::remove((dir + "/" + f).c_str());
    ::rmdir(dir.c_str());
  }
}

TEST_CASE("measurements: record overhead, memory, handshake CPU") {
  auto& p = pki::shared();

  SUBCASE("ciphertext per 64-byte MQTT PUBLISH") {
    for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
      auto ctx = make_context(client_config());
      auto engine = make_engine(ctx);
      server_options o = server_with(p.server);
      o.method = method;
      memory_server server(o);
      memory_link link{engine, server};
      REQUIRE(link.handshake().has_value());
      while (link.step()) {
      }
      REQUIRE(engine.ciphertext_out().empty());
      // PUBLISH QoS 0, topic "dt/thing-1/telemetry" (20), payload 42 bytes: 2 + 2 + 20 + 40 = 64.
      std::string publish = "\x30\x3e";
      publish += std::string("\x00\x14", 2) + "dt/thing-1/telemetry";
      publish += std::string(40, 'x');
      REQUIRE(publish.size() == 64);
      auto w = engine.write(tw::as_bytes(publish));
      REQUIRE(w.has_value());
      CHECK(*w == 64);
      const std::size_t record = engine.ciphertext_out().size();
      MESSAGE(std::string(engine.protocol_version()) << " " << std::string(engine.cipher_suite()) << ": a 64-byte PUBLISH becomes " << record << " bytes on the wire (+"
                                        << record - 64 << ")");
      CHECK(record - 64 <= 29);
    }
  }

  SUBCASE("memory per connection") {
    auto& meter = allocation_meter::get();
    wolfSSL_SetAllocators(&allocation_meter::on_malloc, &allocation_meter::on_free, &allocation_meter::on_realloc);
    {
      // This wolfSSL build has FP_ECC: a process-wide cache of ECC precomputation tables, one entry per
      // point multiplied (new ephemeral keys each handshake), up to a fixed count. It is not per
      // connection, so it is emptied before each reading (wc_ecc_fp_free); peaks still include it.
      wc_ecc_fp_free();
      meter.live = meter.peak = 0;
      meter.blocks.clear();
      auto ctx_result = metered([&] { return net::wolfssl_context::create(client_config_with_cert(p.client)); });
      REQUIRE(ctx_result.has_value());
      auto ctx = std::move(ctx_result).value();
      wc_ecc_fp_free();
      const std::size_t context_bytes = meter.live;
      auto engine = make_engine(ctx);
      server_options o = server_with(p.server);
      o.client_ca_pem = p.root.cert.pem;
      memory_server server(o);
      memory_link link{engine, server};
      meter.reset_peak();
      const std::size_t before = meter.live;
      REQUIRE(metered([&] { return engine.reset(); }).has_value());
      const std::size_t after_new = meter.live - before;
      tw::result<void> hs = errc::would_block;
      for (int i = 0; i < 1000 && !hs.has_value(); ++i) {
        hs = metered([&] { return engine.handshake(); });
        server.accept();
        link.step();
        server.accept();
        link.step();
      }
      REQUIRE(hs.has_value());
      const std::size_t handshake_peak = meter.peak - before;
      const std::size_t with_cache = meter.live;
      wc_ecc_fp_free();
      const std::size_t fp_cache = with_cache - meter.live;
      const std::size_t established = meter.live - before;
      meter.reset_peak();
      const std::string big = pattern(16384);
      server.write(big);
      std::string got;
      tw::byte buf[4096];
      for (int i = 0; i < 1000 && got.size() < big.size(); ++i) {
        link.step();
        auto r = metered([&] { return engine.read(buf); });
        if (r) got.append(reinterpret_cast<const char*>(buf), *r);
      }
      CHECK(got == big);
      std::size_t sent = 0;
      for (int i = 0; i < 1000 && sent < big.size(); ++i) {
        auto r = metered([&] { return engine.write(tw::as_bytes(big).subspan(sent)); });
        if (r) sent += *r;
        link.step();
      }
      const std::size_t transfer_peak = meter.peak - before;
      wc_ecc_fp_free();
      const std::size_t idle = meter.live - before;
      MESSAGE("sizeof(wolfssl_engine) " << sizeof(net::wolfssl_engine) << " B, ciphertext buffers " << engine.ciphertext_in_capacity() << " + "
                                        << engine.ciphertext_out_capacity() << " B, context (CA + certificate + key) " << context_bytes
                                        << " B in wolfSSL heap");
      MESSAGE("wolfSSL heap per connection (" << std::string(engine.protocol_version()) << ", ECDSA P-256 both sides, client certificate): after reset() "
                                              << after_new << " B, handshake peak " << handshake_peak << " B of which "
                                              << fp_cache << " B are the FP_ECC cache, established " << established
                                              << " B, peak with 16 KB records " << transfer_peak << " B, idle again " << idle << " B");
      engine = net::wolfssl_engine{};
      wc_ecc_fp_free();
      CHECK(meter.live == context_bytes);  // the connection gave back everything it took
    }
    wolfSSL_SetAllocators(&std::malloc, &std::free, &std::realloc);
  }

  SUBCASE("handshake CPU in memory: ECDSA P-256 vs RSA-2048 server certificate") {
    struct kind {
      std::string name;
      const credential* server;
    };
    const kind kinds[] = {{"ECDSA P-256", &p.server}, {"RSA-2048", &p.server_rsa}};
    for (auto method : {wolfTLSv1_3_server_method, wolfTLSv1_2_server_method}) {
      for (const auto& k : kinds) {
        auto ctx = make_context(client_config_with_cert(p.client));
        constexpr int rounds = 20;
        double client_ms = 0;
        double total_ms = 0;
        std::string version;
        for (int i = 0; i < rounds; ++i) {
          auto engine = make_engine(ctx);
          server_options o = server_with(*k.server);
          o.client_ca_pem = p.root.cert.pem;
          o.method = method;
          memory_server server(o);
          memory_link link{engine, server};
          const auto start = std::chrono::steady_clock::now();
          tw::result<void> hs = errc::would_block;
          for (int j = 0; j < 1000 && !hs.has_value(); ++j) {
            const auto t0 = std::chrono::steady_clock::now();
            hs = engine.handshake();
            client_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            REQUIRE((hs.has_value() || hs.error() == errc::would_block));
            server.accept();
            link.step();
            server.accept();
            link.step();
          }
          REQUIRE(hs.has_value());
          total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
          version = engine.protocol_version();
        }
        MESSAGE(version << " " << k.name << " server, mutual TLS: client " << client_ms / rounds << " ms, client + server " << total_ms / rounds
                        << " ms per handshake");
      }
    }
  }
}

}  // TEST_SUITE

#endif  // THINGWELL_WITH_WOLFSSL
