#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace thingwell::testing {

// A certificate and its private key, as files.
struct certified_key {
  std::string cert_path;
  std::string key_path;  // PKCS#8 PEM ("BEGIN PRIVATE KEY"), what openssl 3 writes by default

  std::string cert_pem() const;
  std::string key_pem() const;
};

enum class key_algorithm { ec_p256, rsa_2048 };
enum class certificate_purpose { server, client };
enum class certificate_issuer { root_ca, rogue_ca };

// Everything that varies between the certificates tests need. Validity is relative to now.
struct certificate_spec {
  std::string common_name;
  std::vector<std::string> subject_alt_names;  // openssl syntax: "DNS:localhost", "IP:127.0.0.1"
  certificate_purpose purpose = certificate_purpose::client;
  key_algorithm key = key_algorithm::ec_p256;
  certificate_issuer issuer = certificate_issuer::root_ca;
  std::chrono::seconds valid_from{-3600};                  // an hour of slack for clock skew
  std::chrono::seconds valid_until{std::chrono::hours(24 * 365)};
};

// A throw-away PKI made with the openssl command line in its own temp_dir: a trusted root CA
// ("thingwell test root"), a second CA nobody trusts ("thingwell rogue root"), and leaf certificates
// issued on first request and then cached. Named accessors cover the usual cases; issue() makes
// anything else. All methods are thread-safe; returned references stay valid for the object's life.
// Errors (openssl missing or failing) throw std::runtime_error with the command and its output.
class test_pki {
 public:
  test_pki();
  ~test_pki();
  test_pki(const test_pki&) = delete;
  test_pki& operator=(const test_pki&) = delete;

  // One instance per test process, so that a test suite pays for key generation once.
  static test_pki& shared();

  const std::string& directory() const { return files_.path(); }

  const std::string& root_ca_path() const { return root_ca_path_; }
  std::string root_ca_pem() const;
  const std::string& rogue_ca_path();
  std::string rogue_ca_pem();

  const certified_key& server();               // CN=localhost, SAN DNS:localhost + IP:127.0.0.1
  const certified_key& server_rsa();           // the same names with an RSA-2048 key
  const certified_key& server_wrong_host();    // valid only for wrong.example
  const certified_key& server_expired();       // localhost, validity ended yesterday
  const certified_key& server_not_yet_valid(); // localhost, validity starts in 30 days
  const certified_key& server_untrusted();     // localhost, issued by the rogue CA

  // A client certificate with CN=name (the thing name and MQTT client id), issued by the root CA.
  const certified_key& client(const std::string& name);
  // The same, issued by the rogue CA: a broker trusting only the root CA must reject it.
  const certified_key& client_untrusted(const std::string& name);
  const certified_key& client_expired(const std::string& name);

  // A new certificate on every call (not cached).
  certified_key issue(const certificate_spec& spec);

  // The key of `credential` in the traditional format ("BEGIN EC PRIVATE KEY" / "BEGIN RSA PRIVATE
  // KEY"), written on first request.
  std::string traditional_key_path(const certified_key& credential);

 private:
  const certified_key& cached(const std::string& id, const certificate_spec& spec);
  certified_key issue_locked(const certificate_spec& spec);
  void ensure_rogue_ca_locked();
  std::string make_ca(const std::string& section, const std::string& common_name);

  temp_dir files_;
  std::string openssl_;
  std::string config_path_;
  std::string root_ca_path_;
  std::string rogue_ca_path_;
  std::mutex mutex_;
  std::map<std::string, certified_key> issued_;
  std::map<std::string, std::string> traditional_keys_;
  unsigned serial_ = 0;
};

}  // namespace thingwell::testing
