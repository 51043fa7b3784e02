#include "pki.hpp"

#include <ctime>
#include <filesystem>
#include <stdexcept>

#include "process.hpp"
#include "text_files.hpp"

namespace thingwell::testing {

std::string certified_key::cert_pem() const { return read_text_file(cert_path); }
std::string certified_key::key_pem() const { return read_text_file(key_path); }

namespace {

constexpr auto openssl_timeout = std::chrono::seconds(30);

// UTCTime (YYMMDDHHMMSSZ) up to 2049 and GeneralizedTime after, as RFC 5280 requires and
// `openssl ca -startdate/-enddate` accepts.
std::string asn1_time_from_now(std::chrono::seconds offset) {
  const std::time_t when = std::time(nullptr) + static_cast<std::time_t>(offset.count());
  std::tm utc{};
  ::gmtime_r(&when, &utc);
  const int year = utc.tm_year + 1900;
  char text[32];
  const char* format = (year >= 1950 && year < 2050) ? "%y%m%d%H%M%SZ" : "%Y%m%d%H%M%SZ";
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

// In -subj, '/' separates attributes and '\' escapes.
std::string subject_for(const std::string& common_name) {
  std::string subject = "/CN=";
  for (char c : common_name) {
    if (c == '/' || c == '\\') subject += '\\';
    subject += c;
  }
  return subject;
}

std::string file_stem_for(unsigned serial, const std::string& common_name) {
  std::string stem = "leaf" + std::to_string(serial) + "-";
  for (char c : common_name.substr(0, 32)) {
    const bool portable = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    stem += portable ? c : '_';
  }
  return stem;
}

std::vector<std::string> new_key_arguments(key_algorithm key) {
  if (key == key_algorithm::rsa_2048) return {"-newkey", "rsa:2048"};
  return {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"};
}

std::string leaf_extensions(const certificate_spec& spec) {
  std::string text = "basicConstraints = critical, CA:FALSE\n";
  // RSA key exchange (TLS 1.2 RSA suites) needs keyEncipherment; ECDSA keys only sign.
  text += spec.key == key_algorithm::rsa_2048 ? "keyUsage = critical, digitalSignature, keyEncipherment\n"
                                              : "keyUsage = critical, digitalSignature\n";
  text += spec.purpose == certificate_purpose::server ? "extendedKeyUsage = serverAuth\n" : "extendedKeyUsage = clientAuth\n";
  if (!spec.subject_alt_names.empty()) {
    text += "subjectAltName = ";
    for (std::size_t i = 0; i < spec.subject_alt_names.size(); ++i) {
      if (i != 0) text += ", ";
      text += spec.subject_alt_names[i];
    }
    text += "\n";
  }
  text += "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n";
  return text;
}

std::string ca_section(const std::string& name, const std::string& directory, const std::string& cert_path) {
  return "[ " + name + " ]\n"
         "database = " + directory + "/index.txt\n"
         "new_certs_dir = " + directory + "\n"
         "certificate = " + cert_path + "\n"
         "private_key = " + directory + "/ca.key\n"
         "rand_serial = yes\n"
         "default_md = sha256\n"
         "policy = policy_common_name_only\n"
         "unique_subject = no\n"
         "email_in_dn = no\n"
         "copy_extensions = none\n\n";
}

}  // namespace

test_pki::test_pki() : files_("pki") {
  openssl_ = find_executable("openssl");
  if (openssl_.empty()) throw std::runtime_error("test_pki: openssl not found on PATH");
  config_path_ = files_.file("openssl.cnf");
  root_ca_path_ = files_.file("root_ca.pem");
  rogue_ca_path_ = files_.file("rogue_ca.pem");
  std::string config =
      "[ req ]\n"
      "distinguished_name = empty_dn\n"
      "[ empty_dn ]\n\n"
      "[ policy_common_name_only ]\n"
      "commonName = supplied\n\n"
      "[ ca_extensions ]\n"
      "basicConstraints = critical, CA:TRUE\n"
      "keyUsage = critical, keyCertSign, cRLSign\n"
      "subjectKeyIdentifier = hash\n\n";
  config += ca_section("root_ca", files_.file("root"), root_ca_path_);
  config += ca_section("rogue_ca", files_.file("rogue"), rogue_ca_path_);
  write_text_file(config_path_, config);
  make_ca("root", "thingwell test root");
}

test_pki::~test_pki() = default;

test_pki& test_pki::shared() {
  static test_pki instance;
  return instance;
}

std::string test_pki::make_ca(const std::string& directory_name, const std::string& common_name) {
  const std::string directory = files_.file(directory_name);
  std::filesystem::create_directories(directory);
  write_text_file(directory + "/index.txt", "");
  const std::string cert_path = files_.file(directory_name + "_ca.pem");
  std::vector<std::string> command = {openssl_, "req", "-x509", "-config", config_path_, "-extensions", "ca_extensions"};
  for (auto& argument : new_key_arguments(key_algorithm::ec_p256)) command.push_back(argument);
  for (const char* argument : {"-noenc", "-days", "3650", "-subj"}) command.emplace_back(argument);
  command.push_back(subject_for(common_name));
  for (auto& argument : std::vector<std::string>{"-keyout", directory + "/ca.key", "-out", cert_path}) command.push_back(argument);
  const auto result = run_command(command, openssl_timeout);
  if (!result.success()) {
    throw std::runtime_error("test_pki: " + describe_command(command) + " failed (" + result.status.describe() + "):\n" + result.output);
  }
  return cert_path;
}

std::string test_pki::root_ca_pem() const { return read_text_file(root_ca_path_); }

void test_pki::ensure_rogue_ca_locked() {
  if (!std::filesystem::exists(rogue_ca_path_)) make_ca("rogue", "thingwell rogue root");
}

const std::string& test_pki::rogue_ca_path() {
  const std::lock_guard lock(mutex_);
  ensure_rogue_ca_locked();
  return rogue_ca_path_;
}

std::string test_pki::rogue_ca_pem() { return read_text_file(rogue_ca_path()); }

certified_key test_pki::issue(const certificate_spec& spec) {
  const std::lock_guard lock(mutex_);
  return issue_locked(spec);
}

certified_key test_pki::issue_locked(const certificate_spec& spec) {
  if (spec.issuer == certificate_issuer::rogue_ca) ensure_rogue_ca_locked();
  const std::string stem = files_.file(file_stem_for(++serial_, spec.common_name));
  certified_key issued{stem + ".pem", stem + ".key"};
  const std::string request_path = stem + ".csr";
  const std::string extensions_path = stem + ".ext";
  write_text_file(extensions_path, leaf_extensions(spec));

  std::vector<std::string> request = {openssl_, "req", "-new", "-config", config_path_};
  for (auto& argument : new_key_arguments(spec.key)) request.push_back(argument);
  for (auto& argument : std::vector<std::string>{"-noenc", "-subj", subject_for(spec.common_name), "-keyout",
                                                 issued.key_path, "-out", request_path}) {
    request.push_back(argument);
  }
  std::vector<std::string> sign = {openssl_, "ca", "-config", config_path_, "-name",
                                   spec.issuer == certificate_issuer::rogue_ca ? "rogue_ca" : "root_ca",
                                   "-batch", "-notext", "-in", request_path, "-out", issued.cert_path,
                                   "-extfile", extensions_path,
                                   "-startdate", asn1_time_from_now(spec.valid_from),
                                   "-enddate", asn1_time_from_now(spec.valid_until)};
  for (const auto* command : {&request, &sign}) {
    const auto result = run_command(*command, openssl_timeout);
    if (!result.success()) {
      throw std::runtime_error("test_pki: " + describe_command(*command) + " failed (" + result.status.describe() + "):\n" + result.output);
    }
  }
  return issued;
}

const certified_key& test_pki::cached(const std::string& id, const certificate_spec& spec) {
  const std::lock_guard lock(mutex_);
  auto found = issued_.find(id);
  if (found == issued_.end()) found = issued_.emplace(id, issue_locked(spec)).first;
  return found->second;
}

namespace {

certificate_spec localhost_server() {
  certificate_spec spec;
  spec.common_name = "localhost";
  spec.subject_alt_names = {"DNS:localhost", "IP:127.0.0.1"};
  spec.purpose = certificate_purpose::server;
  return spec;
}

certificate_spec client_named(const std::string& name) {
  certificate_spec spec;
  spec.common_name = name;
  spec.purpose = certificate_purpose::client;
  return spec;
}

constexpr std::chrono::seconds days(long count) { return std::chrono::seconds(count * 24 * 3600); }

}  // namespace

const certified_key& test_pki::server() { return cached("server", localhost_server()); }

const certified_key& test_pki::server_rsa() {
  auto spec = localhost_server();
  spec.key = key_algorithm::rsa_2048;
  return cached("server-rsa", spec);
}

const certified_key& test_pki::server_wrong_host() {
  certificate_spec spec = localhost_server();
  spec.common_name = "wrong.example";
  spec.subject_alt_names = {"DNS:wrong.example"};
  return cached("server-wrong-host", spec);
}

const certified_key& test_pki::server_expired() {
  auto spec = localhost_server();
  spec.valid_from = -days(60);
  spec.valid_until = -days(1);
  return cached("server-expired", spec);
}

const certified_key& test_pki::server_not_yet_valid() {
  auto spec = localhost_server();
  spec.valid_from = days(30);
  spec.valid_until = days(60);
  return cached("server-not-yet-valid", spec);
}

const certified_key& test_pki::server_untrusted() {
  auto spec = localhost_server();
  spec.issuer = certificate_issuer::rogue_ca;
  return cached("server-untrusted", spec);
}

const certified_key& test_pki::client(const std::string& name) { return cached("client:" + name, client_named(name)); }

const certified_key& test_pki::client_untrusted(const std::string& name) {
  auto spec = client_named(name);
  spec.issuer = certificate_issuer::rogue_ca;
  return cached("client-untrusted:" + name, spec);
}

const certified_key& test_pki::client_expired(const std::string& name) {
  auto spec = client_named(name);
  spec.valid_from = -days(60);
  spec.valid_until = -days(1);
  return cached("client-expired:" + name, spec);
}

std::string test_pki::traditional_key_path(const certified_key& credential) {
  const std::lock_guard lock(mutex_);
  auto found = traditional_keys_.find(credential.key_path);
  if (found != traditional_keys_.end()) return found->second;
  const std::string path = credential.key_path + ".traditional";
  const std::vector<std::string> command = {openssl_, "pkey", "-in", credential.key_path, "-traditional", "-out", path};
  const auto result = run_command(command, openssl_timeout);
  if (!result.success()) {
    throw std::runtime_error("test_pki: " + describe_command(command) + " failed (" + result.status.describe() + "):\n" + result.output);
  }
  traditional_keys_.emplace(credential.key_path, path);
  return path;
}

}  // namespace thingwell::testing
