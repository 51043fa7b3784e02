// thingwell — sans-I/O TLS client engine over wolfSSL.
//
// The engine owns no socket. It keeps two bounded byte buffers between wolfSSL and whoever moves
// bytes (a poll driver over a non-blocking POSIX or lwIP socket, an Asio driver, a test):
//
//   socket ──recv──▶ ciphertext_in_space() / ciphertext_received(n) ──▶ wolfSSL ──▶ read()
//   socket ◀──send── ciphertext_out()      / ciphertext_sent(n)     ◀── wolfSSL ◀── write()
//
// wolfSSL reaches those buffers through custom I/O callbacks that never block: an empty input
// buffer is WANT_READ, a full output buffer is WANT_WRITE, and the engine reports both as
// errc::would_block. After every call the driver sends whatever ciphertext_out() holds and, when it
// got errc::would_block, feeds more ciphertext before calling again.
//
// Errors are values. wolfSSL's error numbers and the alerts a server sends map onto thingwell::errc;
// the wolfSSL number stays available through last_native_error() for logs. A failed engine stays
// failed (every call returns the same error) until reset().
//
//   what happened                                            errc
//   server chain does not lead to a trust anchor, self-signed tls_certificate_untrusted
//   a certificate in the chain expired or not yet valid       tls_certificate_expired
//   certificate does not carry server_name                    tls_hostname_mismatch
//   server offers only TLS < 1.2 (VERSION_ERROR, alert 70)    tls_protocol_version
//   server picked no ALPN protocol, or alert 120              tls_alpn_rejected
//   server alert about our certificate (42-46, 48, 49, 116),
//   or handshake_failure / decrypt_error / a hang-up after it
//   asked for a certificate and before any application data tls_client_certificate_rejected
//   any other handshake failure                               tls_handshake_failed
//   transport ended without close_notify after the handshake  connection_reset
//   close_notify received                                     read() returns 0
//
// With TLS 1.3 the client finishes its handshake before the server has looked at the client
// certificate, so a refusal of the certificate surfaces on the first read() after handshake().
//
// Build: this header includes <wolfssl/options.h> before any other wolfSSL header, as wolfSSL
// requires; link with -lwolfssl. Compiles with -fno-exceptions -fno-rtti.
#pragma once

#include "../core/config.hpp"

#if THINGWELL_WITH_WOLFSSL

// options.h must come before any other wolfSSL header: it carries the library's build settings,
// and the structure layouts in ssl.h depend on them.
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfio.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "../core/bytes.hpp"
#include "../core/error.hpp"
#include "../core/result.hpp"
#include "tls_config.hpp"

#ifndef THINGWELL_TLS_FILES
#  if THINGWELL_HAS_POSIX || defined(_WIN32)
#    define THINGWELL_TLS_FILES 1
#  else
#    define THINGWELL_TLS_FILES 0  // bare metal: credentials come from PEM buffers (or, later, a secure element)
#  endif
#endif

namespace thingwell::net {

// Capacities of the two ciphertext buffers. The default holds one maximum TLS 1.3 record
// (5-byte header + 2^14 plaintext + 256 expansion), so one socket call moves a whole record.
// Smaller buffers work (down to one byte) but cost more driver round trips: wolfSSL reassembles
// records in its own buffers. An MCU that also sets max_fragment_length can go to ~600 bytes each.
struct tls_buffer_sizes {
  static constexpr std::size_t full_record = 5 + 16384 + 256;
  std::size_t ciphertext_in = full_record;
  std::size_t ciphertext_out = full_record;
};

namespace detail {

// wolfSSL_Init/wolfSSL_Cleanup are process-global. Every context holds one reference; the first
// initialises, the last cleans up. A spin lock (std::atomic_flag is lock-free everywhere, std::mutex
// is not available on every bare-metal toolchain) serialises the rare transitions, so that a thread
// creating a context never sees a half-initialised library.
class wolfssl_library {
 public:
  static bool acquire() noexcept {
    lock();
    bool ok = true;
    if (count() == 0) ok = wolfSSL_Init() == WOLFSSL_SUCCESS;
    if (ok) ++count();
    unlock();
    return ok;
  }
  static void release() noexcept {
    lock();
    if (count() > 0 && --count() == 0) wolfSSL_Cleanup();
    unlock();
  }
  static int references() noexcept {
    lock();
    const int n = count();
    unlock();
    return n;
  }

 private:
  static std::atomic_flag& flag() noexcept {
    static std::atomic_flag f = ATOMIC_FLAG_INIT;
    return f;
  }
  static int& count() noexcept {
    static int n = 0;
    return n;
  }
  static void lock() noexcept {
    while (flag().test_and_set(std::memory_order_acquire)) {
    }
  }
  static void unlock() noexcept { flag().clear(std::memory_order_release); }
};

// Overwrites memory in a way the optimiser may not remove (it cannot prove the stores unobserved
// through a volatile pointer).
inline void secure_zero(void* p, std::size_t n) noexcept {
  volatile unsigned char* v = static_cast<volatile unsigned char*>(p);
  while (n-- != 0) *v++ = 0;
}

// Heap bytes that are wiped before they are freed: file contents that may be a private key.
class wiped_buffer {
 public:
  wiped_buffer() noexcept = default;
  explicit wiped_buffer(std::size_t n) noexcept : data_(new (std::nothrow) unsigned char[n == 0 ? 1 : n]), size_(data_ ? n : 0) {}
  wiped_buffer(const wiped_buffer&) = delete;
  wiped_buffer& operator=(const wiped_buffer&) = delete;
  wiped_buffer(wiped_buffer&& o) noexcept : data_(std::move(o.data_)), size_(std::exchange(o.size_, 0)) {}
  wiped_buffer& operator=(wiped_buffer&& o) noexcept {
    if (this != &o) {
      wipe();
      data_ = std::move(o.data_);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  ~wiped_buffer() { wipe(); }
  unsigned char* data() noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool ok() const noexcept { return data_ != nullptr; }
  void wipe() noexcept {
    if (data_) secure_zero(data_.get(), size_);
  }
  void shrink(std::size_t n) noexcept {
    if (n < size_) {
      secure_zero(data_.get() + n, size_ - n);
      size_ = n;
    }
  }

 private:
  std::unique_ptr<unsigned char[]> data_;
  std::size_t size_ = 0;
};

// A PEM source as bytes: a view of the caller's buffer, or a file read into a wiped_buffer.
struct pem_bytes {
  const unsigned char* data = nullptr;
  std::size_t size = 0;
  wiped_buffer storage;
  std::string source;  // for diagnostics: the path, or "<buffer>"
};

inline bool load_pem(const pem_buffer& b, pem_bytes& out) {
  out.data = reinterpret_cast<const unsigned char*>(b.text.data());
  out.size = b.text.size();
  out.source = "<buffer>";
  return true;
}

inline bool load_pem(const pem_file& f, pem_bytes& out) {
  out.source = f.path;
#if THINGWELL_TLS_FILES
  std::FILE* file = std::fopen(f.path.c_str(), "rb");
  if (file == nullptr) return false;
  // PEM credentials are small; the cap keeps a wrong path (a disk image, /dev/zero) from eating memory.
  constexpr std::size_t max_pem = 1u << 20;
  wiped_buffer buf(max_pem);
  std::size_t n = 0;
  bool ok = buf.ok();
  while (ok) {
    const std::size_t got = std::fread(buf.data() + n, 1, max_pem - n, file);
    n += got;
    if (got == 0) {
      ok = std::feof(file) != 0;
      break;
    }
    if (n == max_pem) {
      ok = false;
      break;
    }
  }
  std::fclose(file);
  if (!ok) return false;
  buf.shrink(n);
  out.storage = std::move(buf);
  out.data = out.storage.data();
  out.size = n;
  return true;
#else
  (void)out;
  return false;
#endif
}

inline bool load_pem(const certificate_source& s, pem_bytes& out) {
  if (const auto* f = std::get_if<pem_file>(&s)) return load_pem(*f, out);
  return load_pem(*std::get_if<pem_buffer>(&s), out);
}

inline constexpr const char* default_cipher_list =
    "TLS13-AES128-GCM-SHA256:TLS13-AES256-GCM-SHA384:TLS13-CHACHA20-POLY1305-SHA256:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

inline unsigned char wolfssl_mfl_code(max_fragment_length m) noexcept {
  switch (m) {
    case max_fragment_length::bytes_512: return WOLFSSL_MFL_2_9;
    case max_fragment_length::bytes_1024: return WOLFSSL_MFL_2_10;
    case max_fragment_length::bytes_2048: return WOLFSSL_MFL_2_11;
    case max_fragment_length::bytes_4096: return WOLFSSL_MFL_2_12;
    case max_fragment_length::unlimited: break;
  }
  return 0;
}

}  // namespace detail

class wolfssl_engine;

// A WOLFSSL_CTX made from a tls_config: credentials parsed once, shared by every connection.
// Move-only; must outlive the engines made from it (and must not be moved while they exist). Creating
// contexts is thread-safe; a context and its engines belong to the thread (strand) of one client.
class wolfssl_context {
 public:
  wolfssl_context() noexcept = default;
  wolfssl_context(const wolfssl_context&) = delete;
  wolfssl_context& operator=(const wolfssl_context&) = delete;
  wolfssl_context(wolfssl_context&& o) noexcept { swap(o); }
  wolfssl_context& operator=(wolfssl_context&& o) noexcept {
    if (this != &o) {
      wolfssl_context tmp(std::move(o));
      swap(tmp);
    }
    return *this;
  }
  ~wolfssl_context() {
    if (ctx_ != nullptr) wolfSSL_CTX_free(ctx_);
    if (library_held_) detail::wolfssl_library::release();
  }

  // Errors: invalid_argument (server name, ALPN, versions), tls_bad_credentials (a trust anchor,
  // the client certificate or key cannot be read or parsed, or the key does not match the
  // certificate), not_supported (the wolfSSL build lacks a requested feature), capacity_exceeded
  // (out of memory). `diag`, when given, names the failing item and file.
  static result<wolfssl_context> create(const tls_config& cfg, tls_config_error* diag = nullptr) {
    using detail::config_fail;
    THINGWELL_TRY(validate(cfg, diag));

    wolfssl_context c;
    if (!detail::wolfssl_library::acquire()) {
      return config_fail(diag, errc::not_supported, tls_config_item::none, "wolfSSL_Init failed");
    }
    c.library_held_ = true;

    // A TLS 1.2-only client uses the fixed-version method, which offers nothing else. Otherwise the
    // flexible method with a minimum: the TLS 1.3-only method cannot even parse a TLS 1.2
    // ServerHello (BUFFER_ERROR), while the flexible one recognises it and fails with VERSION_ERROR.
    const bool tls12_only = cfg.max_version == tls_version::tls1_2;
    WOLFSSL_METHOD* method = tls12_only ? wolfTLSv1_2_client_method() : wolfSSLv23_client_method();
    if (method == nullptr) return config_fail(diag, errc::capacity_exceeded, tls_config_item::none, "out of memory");
    c.ctx_ = wolfSSL_CTX_new(method);  // takes ownership of method
    if (c.ctx_ == nullptr) return config_fail(diag, errc::capacity_exceeded, tls_config_item::none, "out of memory");
    WOLFSSL_CTX* ctx = c.ctx_;

    if (!tls12_only) {
      // Without a minimum the flexible method would still negotiate TLS 1.0/1.1 with an old server.
      const int minimum = cfg.min_version == tls_version::tls1_3 ? WOLFSSL_TLSV1_3 : WOLFSSL_TLSV1_2;
      if (int rc = wolfSSL_CTX_SetMinVersion(ctx, minimum); rc != WOLFSSL_SUCCESS) {
        return config_fail(diag, errc::not_supported, tls_config_item::version_range, "cannot set the minimum TLS version", 0, {}, rc);
      }
    }

    // Peer verification is on and cannot be switched off: this build of wolfSSL (OpenSSL-compatible
    // defaults) would otherwise accept any certificate. The callback only records why a certificate
    // failed; it never overrides wolfSSL's verdict.
    wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, &verify_callback);

    // AWS IoT Core does not support session tickets, and a device reconnects rarely enough that a
    // full handshake costs nothing that matters; no cache also means no per-context session memory.
    wolfSSL_CTX_NoTicketTLSv12(ctx);
    wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);

    // No key below these sizes from anyone, including a misconfigured CA in the chain.
    wolfSSL_CTX_SetMinRsaKey_Sz(ctx, 2048);
    wolfSSL_CTX_SetMinEccKey_Sz(ctx, 256);

    const char* ciphers = cfg.cipher_list.empty() ? detail::default_cipher_list : cfg.cipher_list.c_str();
    if (int rc = wolfSSL_CTX_set_cipher_list(ctx, ciphers); rc != WOLFSSL_SUCCESS) {
      return config_fail(diag, errc::invalid_argument, tls_config_item::cipher_list, "no usable cipher suite in the list", 0, {}, rc);
    }

    wolfSSL_CTX_SetIORecv(ctx, &io_recv);
    wolfSSL_CTX_SetIOSend(ctx, &io_send);
    // The engine needs to know whether the server asked for a client certificate: that is what turns
    // an ambiguous refusal (handshake_failure, a hang-up) into errc::tls_client_certificate_rejected.
    // The message callback sees TLS 1.2's clear-text CertificateRequest. TLS 1.3 encrypts it and
    // wolfSSL does not report it there, but then calls the certificate-setup callback (when a
    // certificate is loaded) or the client-certificate callback (when none is). The setup callback is
    // not installed without a certificate: wolfSSL 5.5.4 then fails TLS 1.3 handshakes (BUFFER_ERROR).
    wolfSSL_CTX_set_msg_callback(ctx, &message_callback);
    if (!cfg.client_certificate.empty()) wolfSSL_CTX_set_cert_cb(ctx, &certificate_requested_callback, nullptr);
    else wolfSSL_CTX_set_client_cert_cb(ctx, &no_certificate_callback);

    for (std::size_t i = 0; i < cfg.trust_anchors.size(); ++i) {
      detail::pem_bytes pem;
      if (!detail::load_pem(cfg.trust_anchors[i], pem)) {
        return config_fail(diag, errc::tls_bad_credentials, tls_config_item::trust_anchor, "cannot read file", i, pem.source);
      }
      const int rc = wolfSSL_CTX_load_verify_buffer(ctx, pem.data, static_cast<long>(pem.size), WOLFSSL_FILETYPE_PEM);
      if (rc != WOLFSSL_SUCCESS) {
        return config_fail(diag, errc::tls_bad_credentials, tls_config_item::trust_anchor, "no valid PEM certificate", i, pem.source, rc);
      }
    }

    if (!cfg.client_certificate.empty()) {
      // Several sources (a leaf file and an intermediates file) are joined into one chain: wolfSSL
      // takes the first certificate as the leaf and the rest as the chain it sends.
      std::size_t total = 0;
      std::vector<detail::pem_bytes> parts(cfg.client_certificate.size());
      for (std::size_t i = 0; i < parts.size(); ++i) {
        if (!detail::load_pem(cfg.client_certificate[i], parts[i])) {
          return config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_certificate, "cannot read file", i, parts[i].source);
        }
        total += parts[i].size + 1;
      }
      const unsigned char* chain = parts[0].data;
      std::size_t chain_size = parts[0].size;
      detail::wiped_buffer joined;
      if (parts.size() > 1) {
        joined = detail::wiped_buffer(total);
        if (!joined.ok()) return config_fail(diag, errc::capacity_exceeded, tls_config_item::client_certificate, "out of memory");
        std::size_t at = 0;
        for (const auto& part : parts) {
          if (part.size != 0) std::memcpy(joined.data() + at, part.data, part.size);
          at += part.size;
          joined.data()[at++] = '\n';
        }
        chain = joined.data();
        chain_size = at;
      }
      const int rc = wolfSSL_CTX_use_certificate_chain_buffer(ctx, chain, static_cast<long>(chain_size));
      if (rc != WOLFSSL_SUCCESS) {
        // Joined sources fail as one; the leaf's source is the one to look at first.
        return config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_certificate, "no valid PEM certificate", 0,
                           parts[0].source, rc);
      }
    }

    if (const auto* file = std::get_if<pem_file>(&cfg.client_key)) {
      THINGWELL_TRY(c.use_key(certificate_source{*file}, diag));
    } else if (const auto* buffer = std::get_if<pem_buffer>(&cfg.client_key)) {
      THINGWELL_TRY(c.use_key(certificate_source{*buffer}, diag));
    }

    if (cfg.fragment_length != max_fragment_length::unlimited) c.mfl_code_ = detail::wolfssl_mfl_code(cfg.fragment_length);

    c.server_name_ = cfg.server_name;
    c.send_sni_ = !detail::is_ip_literal(cfg.server_name);
    for (const auto& p : cfg.alpn) {
      if (!c.alpn_list_.empty()) c.alpn_list_ += ',';
      c.alpn_list_ += p;
    }
    return c;
  }

  WOLFSSL_CTX* native_handle() const noexcept { return ctx_; }
  const std::string& server_name() const noexcept { return server_name_; }
  explicit operator bool() const noexcept { return ctx_ != nullptr; }

 private:
  friend class wolfssl_engine;

  result<void> use_key(const certificate_source& src, tls_config_error* diag) {
    detail::pem_bytes pem;
    if (!detail::load_pem(src, pem)) {
      return detail::config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_key, "cannot read file", 0, pem.source);
    }
    const int rc = wolfSSL_CTX_use_PrivateKey_buffer(ctx_, pem.data, static_cast<long>(pem.size), WOLFSSL_FILETYPE_PEM);
    if (rc != WOLFSSL_SUCCESS) {
      return detail::config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_key, "not a supported unencrypted PEM private key", 0,
                                 pem.source, rc);
    }
    // A key that does not belong to the certificate would only show up as a refusal from the server,
    // far from its cause.
    if (wolfSSL_CTX_check_private_key(ctx_) != WOLFSSL_SUCCESS) {
      return detail::config_fail(diag, errc::tls_bad_credentials, tls_config_item::client_key, "key does not match the client certificate", 0,
                                 pem.source);
    }
    return success();
  }

  static int verify_callback(int preverified, WOLFSSL_X509_STORE_CTX* store);
  static int io_recv(WOLFSSL* ssl, char* buf, int sz, void* io);
  static int io_send(WOLFSSL* ssl, char* buf, int sz, void* io);
  static void message_callback(int write_p, int version, int content_type, const void* buf, std::size_t len, WOLFSSL* ssl, void* arg);
  static int certificate_requested_callback(WOLFSSL* ssl, void* arg);
  static int no_certificate_callback(WOLFSSL* ssl, WOLFSSL_X509** cert, WOLFSSL_EVP_PKEY** key);

  void swap(wolfssl_context& o) noexcept {
    std::swap(ctx_, o.ctx_);
    std::swap(library_held_, o.library_held_);
    std::swap(server_name_, o.server_name_);
    std::swap(alpn_list_, o.alpn_list_);
    std::swap(send_sni_, o.send_sni_);
    std::swap(mfl_code_, o.mfl_code_);
  }

  WOLFSSL_CTX* ctx_ = nullptr;
  bool library_held_ = false;
  std::string server_name_;
  std::string alpn_list_;  // wolfSSL's syntax: names separated by ','
  bool send_sni_ = true;
  unsigned char mfl_code_ = 0;
};

// One TLS client connection at a time over caller-moved ciphertext. Move-only.
//
// Lifecycle: handshake() until it succeeds → read()/write() → shutdown() → reset() for the next
// connection (or destroy). reset() may be called at any point to abandon a connection.
//
// Not thread-safe; all calls from the thread (strand) that owns the client.
class wolfssl_engine {
 public:
  enum class state : std::uint8_t { idle, handshaking, established, closing, closed, failed };

  wolfssl_engine() noexcept = default;

  // Uses caller-provided storage for the two ciphertext buffers: no allocation by the engine (wolfSSL
  // still allocates its own per-connection state on reset()). The storage must outlive the engine.
  wolfssl_engine(const wolfssl_context& ctx, mutable_bytes in_storage, mutable_bytes out_storage) noexcept
      : ctx_(&ctx), in_(in_storage.data()), in_cap_(in_storage.size()), out_(out_storage.data()), out_cap_(out_storage.size()) {}

  // Allocates the two buffers. capacity_exceeded when memory runs out, invalid_argument for a zero size.
  static result<wolfssl_engine> create(const wolfssl_context& ctx, tls_buffer_sizes sizes = {}) {
    if (!ctx || sizes.ciphertext_in == 0 || sizes.ciphertext_out == 0) return errc::invalid_argument;
    std::unique_ptr<byte[]> in(new (std::nothrow) byte[sizes.ciphertext_in]);
    std::unique_ptr<byte[]> out(new (std::nothrow) byte[sizes.ciphertext_out]);
    if (!in || !out) return errc::capacity_exceeded;
    wolfssl_engine e(ctx, {in.get(), sizes.ciphertext_in}, {out.get(), sizes.ciphertext_out});
    e.owned_in_ = std::move(in);
    e.owned_out_ = std::move(out);
    return e;
  }

  wolfssl_engine(const wolfssl_engine&) = delete;
  wolfssl_engine& operator=(const wolfssl_engine&) = delete;
  // Moving is safe at any time: wolfSSL's I/O context pointer is re-bound to `this` before every call.
  // Views returned by ciphertext_in_space()/ciphertext_out() stay valid (the storage does not move).
  wolfssl_engine(wolfssl_engine&& o) noexcept { take(o); }
  wolfssl_engine& operator=(wolfssl_engine&& o) noexcept {
    if (this != &o) {
      free_session();
      take(o);
    }
    return *this;
  }
  ~wolfssl_engine() { free_session(); }

  // ---- connection lifecycle -------------------------------------------------------------------------

  // Drops any current connection (without close_notify) and prepares a new one on the same context:
  // a fresh WOLFSSL object with SNI, hostname check, ALPN and fragment length set; both buffers
  // emptied. handshake() calls it implicitly on a new engine.
  result<void> reset() {
    free_session();
    clear_connection_state();
    if (ctx_ == nullptr || !*ctx_) return fail_config(errc::not_connected);
    ssl_ = wolfSSL_new(ctx_->ctx_);
    if (ssl_ == nullptr) return fail_config(errc::capacity_exceeded);
    bind_io();
    const std::string& name = ctx_->server_name_;
    if (ctx_->send_sni_) {
      if (int rc = wolfSSL_UseSNI(ssl_, WOLFSSL_SNI_HOST_NAME, name.data(), static_cast<unsigned short>(name.size())); rc != WOLFSSL_SUCCESS) {
        native_error_ = rc;
        return fail_config(errc::capacity_exceeded);
      }
    }
    // Matched against the certificate's DNS names (and CN when it has none) during verification;
    // a mismatch fails the handshake with DOMAIN_NAME_MISMATCH.
    if (int rc = wolfSSL_check_domain_name(ssl_, name.c_str()); rc != WOLFSSL_SUCCESS) {
      native_error_ = rc;
      return fail_config(errc::capacity_exceeded);
    }
    if (!ctx_->alpn_list_.empty()) {
      // wolfSSL_UseALPN takes a mutable list (it tokenises a copy, but the prototype says char*).
      std::string list = ctx_->alpn_list_;
      if (int rc = wolfSSL_UseALPN(ssl_, list.data(), static_cast<unsigned>(list.size()), WOLFSSL_ALPN_FAILED_ON_MISMATCH);
          rc != WOLFSSL_SUCCESS) {
        native_error_ = rc;
        return fail_config(errc::capacity_exceeded);
      }
    }
    if (ctx_->mfl_code_ != 0) {
      if (int rc = wolfSSL_UseMaxFragment(ssl_, ctx_->mfl_code_); rc != WOLFSSL_SUCCESS) {
        native_error_ = rc;
        return fail_config(errc::not_supported);
      }
    }
    state_ = state::handshaking;
    return success();
  }

  // Drives the handshake. Success: established, read()/write() may be used. errc::would_block: send
  // ciphertext_out(), feed ciphertext, call again. Anything else is final (see the table at the top
  // of this file); ciphertext_out() may then still hold an alert worth sending before closing.
  result<void> handshake() {
    if (state_ == state::idle) THINGWELL_TRY(reset());
    if (state_ == state::established) return success();
    if (state_ == state::failed) return error_;
    if (state_ != state::handshaking) return errc::closed;
    bind_io();
    const int rc = wolfSSL_connect(ssl_);
    if (rc != WOLFSSL_SUCCESS && is_pending(rc)) return errc::would_block;
    release_ecc_cache();
    if (rc == WOLFSSL_SUCCESS) {
      // The server may ignore ALPN entirely (no extension in its reply). A client that asked for
      // one must not talk MQTT to whatever answers instead: on AWS port 443 that is the HTTPS side.
      if (!ctx_->alpn_list_.empty()) {
        char* proto = nullptr;
        unsigned short len = 0;
        if (wolfSSL_ALPN_GetProtocol(ssl_, &proto, &len) != WOLFSSL_SUCCESS || len == 0) return fail(errc::tls_alpn_rejected, 0);
        alpn_.assign(proto, len);
      }
      state_ = state::established;
      return success();
    }
    const int err = wolfSSL_get_error(ssl_, rc);
    return fail(map_failure(err, /*during_handshake=*/true), err);
  }

  // True while the handshake waits for I/O.
  bool is_pending(int rc) {
    const int err = wolfSSL_get_error(ssl_, rc);
    return err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE || stalled_on_output(err);
  }

  // wolfSSL builds with FP_ECC (Debian's does) keep per-thread ECC precomputation tables that grow to
  // megabytes and are never used again by a device that handshakes once per connection. Dropping
  // them when a handshake ends keeps a connected client's memory small.
  static void release_ecc_cache() noexcept {
#if defined(FP_ECC)
    wc_ecc_fp_free();
#endif
  }

  // Encrypts as much of `plaintext` as the output buffer can take, whole records at a time, and
  // returns how many plaintext bytes were consumed (≥ 1). errc::would_block when not even one byte
  // fits: send ciphertext_out() first. After errc::would_block the next write() must start with the
  // same bytes (wolfSSL may already hold a record built from them; it then takes them without
  // re-reading) — a caller that keeps unconsumed data and retries does this naturally.
  result<std::size_t> write(bytes_view plaintext) {
    if (state_ == state::failed) return error_;
    if (state_ != state::established) return state_ == state::handshaking || state_ == state::idle ? errc::not_connected : errc::closed;
    if (plaintext.empty()) return std::size_t{0};
    bind_io();
    std::size_t done = 0;
    while (done < plaintext.size()) {
      std::size_t chunk = 0;
      if (pending_write_ != 0) {
        // wolfSSL built a record from these bytes earlier and still holds part of it.
        if (plaintext.size() < pending_write_) return errc::invalid_argument;
        chunk = pending_write_;
      } else {
        chunk = record_that_fits(plaintext.size() - done);
        if (chunk == 0) {
          // An output buffer smaller than one record can never take a whole one. Let wolfSSL hold
          // the record and pass it out piecemeal, under the same-bytes-again rule above.
          if (done != 0 || out_end_ != 0) break;
          chunk = largest_record(plaintext.size());
        }
      }
      const int rc = wolfSSL_write(ssl_, plaintext.data() + done, static_cast<int>(chunk));
      if (rc > 0) {
        pending_write_ = 0;
        done += static_cast<std::size_t>(rc);
        continue;
      }
      const int err = wolfSSL_get_error(ssl_, rc);
      if (err == WOLFSSL_ERROR_WANT_WRITE || err == WOLFSSL_ERROR_WANT_READ || stalled_on_output(err)) {
        pending_write_ = chunk;
        break;
      }
      return fail(map_failure(err, false), err);
    }
    if (done == 0) return errc::would_block;
    return done;
  }

  // Decrypts into `plaintext`. Returns the number of bytes (≥ 1); 0 when the server sent
  // close_notify (a clean end of stream, like recv() returning 0; read() keeps returning 0).
  // errc::would_block: feed more ciphertext. errc::connection_reset: the transport ended
  // (ciphertext_eof()) without close_notify — a truncation that TLS is there to detect.
  // On TLS 1.3 a server that rejects the client certificate can only say so after the client has
  // finished its handshake, so that refusal (errc::tls_client_certificate_rejected) arrives here,
  // on the first read, as an alert or as a hang-up before any application data.
  result<std::size_t> read(mutable_bytes plaintext) {
    if (state_ == state::failed) return error_;
    if (state_ == state::closed) return std::size_t{0};
    if (state_ != state::established && state_ != state::closing) return errc::not_connected;
    if (plaintext.empty()) return errc::invalid_argument;
    bind_io();
    // A record without application data (a TLS 1.3 NewSessionTicket, a KeyUpdate) can make wolfSSL
    // report WANT_READ although more ciphertext is already buffered; retry while it makes progress.
    // (OpenSSL's advice to clear SSL_MODE_AUTO_RETRY for non-blocking sockets does not apply: this
    // Debian build turns wolfSSL's auto-retry on by default, and with it wolfSSL only keeps going
    // through such records itself. Our receive callback returns WANT_READ the moment the buffer is
    // empty, so nothing can block either way, and this loop covers builds without auto-retry.)
    for (int attempt = 0; attempt < 64; ++attempt) {
      const std::size_t before = in_len();
      const int rc = wolfSSL_read(ssl_, plaintext.data(), static_cast<int>(plaintext.size() > 0x7fffffff ? 0x7fffffff : plaintext.size()));
      if (rc > 0) {
        received_application_data_ = true;
        return static_cast<std::size_t>(rc);
      }
      const int err = wolfSSL_get_error(ssl_, rc);
      if (err == WOLFSSL_ERROR_ZERO_RETURN) {
        state_ = state::closed;
        return std::size_t{0};
      }
      if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE || stalled_on_output(err)) {
        if (in_len() > 0 && in_len() < before) continue;
        return errc::would_block;
      }
      return fail(map_failure(err, false), err);
    }
    return errc::would_block;
  }

  // Queues close_notify. Success once it is in ciphertext_out(): send that, then close the socket.
  // The engine does not wait for the server's close_notify; MQTT has its own DISCONNECT.
  // errc::would_block: the output buffer is full, send and call again.
  result<void> shutdown() {
    if (state_ == state::failed) return error_;
    if (state_ != state::established && state_ != state::closing && state_ != state::closed) return errc::not_connected;
    bind_io();
    const int rc = wolfSSL_shutdown(ssl_);
    if (rc == WOLFSSL_SUCCESS || rc == WOLFSSL_SHUTDOWN_NOT_DONE) {
      if (state_ == state::established) state_ = state::closing;
      return success();
    }
    const int err = wolfSSL_get_error(ssl_, rc);
    if (err == WOLFSSL_ERROR_WANT_WRITE || err == WOLFSSL_ERROR_WANT_READ || stalled_on_output(err)) return errc::would_block;
    // The peer already closed the transport: nothing more to say to it.
    if (err == SOCKET_PEER_CLOSED_E || err == SOCKET_ERROR_E) {
      state_ = state::closed;
      return success();
    }
    return fail(map_failure(err, false), err);
  }

  // ---- ciphertext side: for the driver ------------------------------------------------------------

  // Free space for bytes read from the socket. Valid until ciphertext_received() or the next call
  // to ciphertext_in_space(); only one lease at a time. Empty when wolfSSL has not consumed what
  // is buffered yet: call read()/handshake() first (back-pressure).
  mutable_bytes ciphertext_in_space() noexcept {
    if (in_begin_ != 0) {
      // Compacting here, never in the I/O callback, keeps an outstanding asynchronous read's target
      // region still: the callback only advances in_begin_.
      const std::size_t n = in_end_ - in_begin_;
      if (n != 0) std::memmove(in_, in_ + in_begin_, n);
      in_begin_ = 0;
      in_end_ = n;
    }
    return {in_ + in_end_, in_cap_ - in_end_};
  }

  // `n` bytes were written at the start of the last ciphertext_in_space().
  void ciphertext_received(std::size_t n) noexcept {
    THINGWELL_ASSERT(n <= in_cap_ - in_end_);
    in_end_ += n;
  }

  // The transport delivered end-of-stream (recv returned 0) or was reset. Buffered ciphertext is
  // still processed first.
  void ciphertext_eof() noexcept { transport_ended_ = true; }

  // Bytes to send, oldest first. They stay where they are until ciphertext_sent(), even across
  // write()/read()/handshake() calls in between (the engine only appends), so an asynchronous write
  // may use the view while the application keeps writing.
  bytes_view ciphertext_out() const noexcept { return {out_ + out_begin_, out_end_ - out_begin_}; }

  // `n` bytes from the front of ciphertext_out() are on the wire. Invalidates earlier views.
  void ciphertext_sent(std::size_t n) noexcept {
    THINGWELL_ASSERT(n <= out_end_ - out_begin_);
    out_begin_ += n;
    if (out_begin_ == out_end_) {
      out_begin_ = out_end_ = 0;
    } else if (out_begin_ != 0) {
      std::memmove(out_, out_ + out_begin_, out_end_ - out_begin_);
      out_end_ -= out_begin_;
      out_begin_ = 0;
    }
  }

  // ---- inspection ---------------------------------------------------------------------------------

  state current_state() const noexcept { return state_; }
  bool established() const noexcept { return state_ == state::established; }
  // The sticky error of a failed engine; empty otherwise.
  std::error_code error() const noexcept { return error_; }
  // wolfSSL's error number behind the last failure (negative, e.g. -188 ASN_NO_SIGNER_E), for logs.
  int last_native_error() const noexcept { return native_error_; }
  // The certificate verification error recorded by the verify callback (a wolfSSL ASN error
  // number, e.g. -151 ASN_AFTER_DATE_E), 0 when every certificate verified.
  int verify_error() const noexcept { return verify_error_; }
  // The last alert received from / sent to the server (RFC 8446 §6 numbers), -1 if none.
  int last_alert_received() const noexcept { return alert(true); }
  int last_alert_sent() const noexcept { return alert(false); }
  // Whether the server asked for a client certificate during the handshake.
  bool certificate_requested() const noexcept { return certificate_requested_; }
  // The ALPN protocol the server chose; empty without ALPN.
  std::string_view alpn_selected() const noexcept { return alpn_; }
  // "TLSv1.2" / "TLSv1.3" once established.
  const char* protocol_version() const noexcept { return ssl_ != nullptr ? wolfSSL_get_version(ssl_) : ""; }
  const char* cipher_suite() const noexcept {
    if (ssl_ == nullptr) return "";
    const char* name = wolfSSL_get_cipher_name(ssl_);
    return name != nullptr ? name : "";
  }
  std::size_t ciphertext_in_capacity() const noexcept { return in_cap_; }
  std::size_t ciphertext_out_capacity() const noexcept { return out_cap_; }
  WOLFSSL* native_handle() const noexcept { return ssl_; }

 private:
  friend class wolfssl_context;

  void bind_io() noexcept {
    wolfSSL_SetIOReadCtx(ssl_, this);
    wolfSSL_SetIOWriteCtx(ssl_, this);
  }

  std::size_t in_len() const noexcept { return in_end_ - in_begin_; }

  // wolfSSL 5.5.4's TLS 1.3 client, when the output buffer takes only part of a flight, can fail a
  // call with no error code at all (wolfSSL_get_error() == 0); calling again once the bytes are out
  // carries on normally. Only treated as "wait" while there is output for the driver to send, so a
  // genuine silent failure cannot loop forever.
  bool stalled_on_output(int err) const noexcept { return err == WOLFSSL_ERROR_NONE && out_end_ > out_begin_; }

  // The largest plaintext chunk whose record fits in the free tail of the output buffer. Filling
  // only whole records keeps wolfSSL from holding a half-sent record, which would tie the next
  // write() to the same bytes.
  std::size_t record_that_fits(std::size_t want) noexcept {
    const std::size_t room = out_cap_ - out_end_;
    const int max_plain = wolfSSL_GetMaxOutputSize(ssl_);
    std::size_t n = want;
    if (max_plain > 0 && n > static_cast<std::size_t>(max_plain)) n = static_cast<std::size_t>(max_plain);
    while (n > 0) {
      const int size = wolfSSL_GetOutputSize(ssl_, static_cast<int>(n));
      if (size <= 0) return 0;
      if (static_cast<std::size_t>(size) <= room) return n;
      const std::size_t over = static_cast<std::size_t>(size) - room;
      n = over >= n ? 0 : n - over;
    }
    return 0;
  }

  std::size_t largest_record(std::size_t want) const noexcept {
    const int max_plain = wolfSSL_GetMaxOutputSize(ssl_);
    if (max_plain > 0 && want > static_cast<std::size_t>(max_plain)) return static_cast<std::size_t>(max_plain);
    return want;
  }

  int alert(bool received) const noexcept {
    if (ssl_ == nullptr) return -1;
    WOLFSSL_ALERT_HISTORY h{};
    if (wolfSSL_get_alert_history(ssl_, &h) != WOLFSSL_SUCCESS) return -1;
    const WOLFSSL_ALERT& a = received ? h.last_rx : h.last_tx;
    return a.level == 0 && a.code == 0 ? -1 : a.code;
  }

  // wolfSSL's error number → errc. The alert received from the server decides when wolfSSL only
  // says "fatal alert" (FATAL_ERROR): that is how a server reports what it disliked about us.
  errc map_failure(int err, bool during_handshake) noexcept {
    // wolfSSL reports some verification failures generically; the verify callback saw the cause.
    if (err == VERIFY_CERT_ERROR && verify_error_ != 0) {
      if (auto e = map_verify_error(verify_error_); e != errc::tls_handshake_failed) return e;
    }
    if (auto e = map_verify_error(err); e != errc::tls_handshake_failed) return e;
    switch (err) {
      case VERSION_ERROR:
        return errc::tls_protocol_version;
      case UNKNOWN_ALPN_PROTOCOL_NAME_E:
        return errc::tls_alpn_rejected;
      case MEMORY_E:
      case MEMORY_ERROR:
        return errc::capacity_exceeded;
      case FATAL_ERROR:
        return map_alert(alert(true), during_handshake);
      case SOCKET_PEER_CLOSED_E:
      case SOCKET_ERROR_E:
        return map_hang_up(during_handshake);
      default:
        break;
    }
    return during_handshake ? errc::tls_handshake_failed : errc::connection_reset;
  }

  // Certificate verification results come as wolfSSL ASN numbers (negative) from the handshake,
  // and as OpenSSL-compatible X509_V_ERR numbers (positive) in the verify callback of this build.
  static errc map_verify_error(int code) noexcept {
    switch (code) {
      case ASN_NO_SIGNER_E:
      case ASN_SELF_SIGNED_E:
      case ASN_SIG_CONFIRM_E:
      case ASN_SIG_OID_E:
      case ASN_SIG_HASH_E:
      case ASN_SIG_KEY_E:
      case ASN_PATHLEN_SIZE_E:
      case ASN_PATHLEN_INV_E:
      case ASN_CRIT_EXT_E:
      case NO_PEER_CERT:
      case 2:   // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
      case 7:   // X509_V_ERR_CERT_SIGNATURE_FAILURE
      case 18:  // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
      case 19:  // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
      case 20:  // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
      case 21:  // X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
      case 24:  // X509_V_ERR_INVALID_CA
      case 25:  // X509_V_ERR_PATH_LENGTH_EXCEEDED
        return errc::tls_certificate_untrusted;
      case ASN_AFTER_DATE_E:
      case ASN_BEFORE_DATE_E:
      case 9:   // X509_V_ERR_CERT_NOT_YET_VALID
      case 10:  // X509_V_ERR_CERT_HAS_EXPIRED
      case 13:  // X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD (wolfSSL's name for "not yet valid")
      case 14:  // X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD (wolfSSL's name for "expired")
        return errc::tls_certificate_expired;
      case DOMAIN_NAME_MISMATCH:
      case IPADDR_MISMATCH:
      case 62:  // X509_V_ERR_HOSTNAME_MISMATCH
      case 64:  // X509_V_ERR_IP_ADDRESS_MISMATCH
        return errc::tls_hostname_mismatch;
      default:
        break;
    }
    return errc::tls_handshake_failed;
  }

  errc map_alert(int code, bool during_handshake) const noexcept {
    switch (code) {
      case ::protocol_version:
        return errc::tls_protocol_version;
      case ::no_application_protocol:
        return errc::tls_alpn_rejected;
      case ::certificate_required:
      case ::bad_certificate:
      case ::unsupported_certificate:
      case ::certificate_revoked:
      case ::certificate_expired:
      case ::certificate_unknown:
      case ::unknown_ca:
      case ::access_denied:
        return errc::tls_client_certificate_rejected;
      case ::handshake_failure:
      case ::decrypt_error:
        // TLS 1.2 servers (OpenSSL, so mosquitto) answer a missing certificate with handshake_failure,
        // and a CertificateVerify that does not match our certificate's key with decrypt_error. The
        // same alerts before the server asked for a certificate mean no common cipher suite, group
        // or signature algorithm instead.
        if (certificate_requested_) return errc::tls_client_certificate_rejected;
        return errc::tls_handshake_failed;
      default:
        break;
    }
    return during_handshake ? errc::tls_handshake_failed : errc::connection_reset;
  }

  // The server hung up without an alert (or the alert was lost in a TCP reset). Once it has asked
  // for our certificate and before it has sent any application data, the certificate is the likely
  // reason: TLS 1.2 servers judge it at the end of their handshake, TLS 1.3 servers after ours.
  errc map_hang_up(bool during_handshake) const noexcept {
    if (certificate_requested_ && !received_application_data_) return errc::tls_client_certificate_rejected;
    return during_handshake ? errc::tls_handshake_failed : errc::connection_reset;
  }

  result<void> fail_config(errc e) noexcept {
    state_ = state::failed;
    error_ = make_error_code(e);
    return error_;
  }

  std::error_code fail(errc e, int native) noexcept {
    state_ = state::failed;
    if (native != 0) native_error_ = native;
    error_ = make_error_code(e);
    return error_;
  }

  void clear_connection_state() noexcept {
    in_begin_ = in_end_ = 0;
    out_begin_ = out_end_ = 0;
    pending_write_ = 0;
    transport_ended_ = false;
    certificate_requested_ = false;
    received_application_data_ = false;
    verify_error_ = 0;
    native_error_ = 0;
    error_ = {};
    alpn_.clear();
    state_ = state::idle;
  }

  void free_session() noexcept {
    if (ssl_ != nullptr) {
      wolfSSL_free(ssl_);
      ssl_ = nullptr;
    }
  }

  void take(wolfssl_engine& o) noexcept {
    ctx_ = o.ctx_;
    ssl_ = std::exchange(o.ssl_, nullptr);
    owned_in_ = std::move(o.owned_in_);
    owned_out_ = std::move(o.owned_out_);
    in_ = o.in_;
    in_cap_ = o.in_cap_;
    in_begin_ = o.in_begin_;
    in_end_ = o.in_end_;
    out_ = o.out_;
    out_cap_ = o.out_cap_;
    out_begin_ = o.out_begin_;
    out_end_ = o.out_end_;
    pending_write_ = o.pending_write_;
    state_ = o.state_;
    error_ = o.error_;
    native_error_ = o.native_error_;
    verify_error_ = o.verify_error_;
    transport_ended_ = o.transport_ended_;
    certificate_requested_ = o.certificate_requested_;
    received_application_data_ = o.received_application_data_;
    alpn_ = std::move(o.alpn_);
    o.state_ = state::idle;
    o.in_ = o.out_ = nullptr;
    o.in_cap_ = o.out_cap_ = 0;
    o.in_begin_ = o.in_end_ = o.out_begin_ = o.out_end_ = 0;
  }

  const wolfssl_context* ctx_ = nullptr;
  WOLFSSL* ssl_ = nullptr;
  std::unique_ptr<byte[]> owned_in_;
  std::unique_ptr<byte[]> owned_out_;
  byte* in_ = nullptr;
  std::size_t in_cap_ = 0;
  std::size_t in_begin_ = 0;  // first byte wolfSSL has not consumed
  std::size_t in_end_ = 0;    // end of received bytes
  byte* out_ = nullptr;
  std::size_t out_cap_ = 0;
  std::size_t out_begin_ = 0;  // first byte not yet sent
  std::size_t out_end_ = 0;    // end of bytes wolfSSL produced
  std::size_t pending_write_ = 0;
  state state_ = state::idle;
  std::error_code error_{};
  int native_error_ = 0;
  int verify_error_ = 0;
  bool transport_ended_ = false;
  bool certificate_requested_ = false;
  bool received_application_data_ = false;
  std::string alpn_;
};

// ---- wolfSSL callbacks ----------------------------------------------------------------------------

inline int wolfssl_context::io_recv(WOLFSSL*, char* buf, int sz, void* io) {
  auto* e = static_cast<wolfssl_engine*>(io);
  const std::size_t avail = e->in_end_ - e->in_begin_;
  if (avail == 0) {
    if (e->transport_ended_) return WOLFSSL_CBIO_ERR_CONN_CLOSE;
    return WOLFSSL_CBIO_ERR_WANT_READ;
  }
  const std::size_t n = sz < 0 ? 0 : (static_cast<std::size_t>(sz) < avail ? static_cast<std::size_t>(sz) : avail);
  std::memcpy(buf, e->in_ + e->in_begin_, n);
  e->in_begin_ += n;
  return static_cast<int>(n);
}

inline int wolfssl_context::io_send(WOLFSSL*, char* buf, int sz, void* io) {
  auto* e = static_cast<wolfssl_engine*>(io);
  const std::size_t room = e->out_cap_ - e->out_end_;
  if (room == 0) return WOLFSSL_CBIO_ERR_WANT_WRITE;
  const std::size_t n = sz < 0 ? 0 : (static_cast<std::size_t>(sz) < room ? static_cast<std::size_t>(sz) : room);
  std::memcpy(e->out_ + e->out_end_, buf, n);
  e->out_end_ += n;
  return static_cast<int>(n);
}

inline int wolfssl_context::verify_callback(int preverified, WOLFSSL_X509_STORE_CTX* store) {
  if (preverified == 0 && store != nullptr) {
    auto* ssl = static_cast<WOLFSSL*>(wolfSSL_X509_STORE_CTX_get_ex_data(store, wolfSSL_get_ex_data_X509_STORE_CTX_idx()));
    if (ssl != nullptr) {
      auto* e = static_cast<wolfssl_engine*>(wolfSSL_GetIOReadCtx(ssl));
      // The first failure is the cause; later ones (the same chain seen again) add nothing.
      if (e != nullptr && e->verify_error_ == 0) e->verify_error_ = store->error;  // a wolfSSL ASN_* number
    }
  }
  return preverified;  // never turn a failure into success
}

inline void wolfssl_context::message_callback(int write_p, int, int content_type, const void* buf, std::size_t len, WOLFSSL* ssl, void*) {
  constexpr int handshake_record = 22;
  constexpr unsigned char certificate_request = 13;
  if (write_p != 0 || content_type != handshake_record || len == 0) return;
  if (static_cast<const unsigned char*>(buf)[0] != certificate_request) return;
  if (auto* e = static_cast<wolfssl_engine*>(wolfSSL_GetIOReadCtx(ssl))) e->certificate_requested_ = true;
}

inline int wolfssl_context::certificate_requested_callback(WOLFSSL* ssl, void*) {
  if (auto* e = static_cast<wolfssl_engine*>(wolfSSL_GetIOReadCtx(ssl))) e->certificate_requested_ = true;
  return 1;  // carry on with the loaded certificate
}

inline int wolfssl_context::no_certificate_callback(WOLFSSL* ssl, WOLFSSL_X509**, WOLFSSL_EVP_PKEY**) {
  if (auto* e = static_cast<wolfssl_engine*>(wolfSSL_GetIOReadCtx(ssl))) e->certificate_requested_ = true;
  return 0;  // we have none: send an empty Certificate message
}

}  // namespace thingwell::net

#endif  // THINGWELL_WITH_WOLFSSL
