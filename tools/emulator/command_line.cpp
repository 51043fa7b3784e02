#include "command_line.hpp"

#include <charconv>
#include <string_view>

namespace thingwell::emulator {

namespace {

template <class Int>
bool parse_number(const std::string& text, Int& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc{} && r.ptr == text.data() + text.size();
}

std::optional<command_line> parse_jobs_command(const std::vector<std::string>& positional, command_line out,
                                               std::string& error) {
  const std::string verb = positional.size() > 1 ? positional[1] : "";
  std::size_t expected = 3;
  if (verb == "create" || verb == "cancel") {
    if (positional.size() < 3) {
      error = "jobs " + verb + " needs a job id";
      return std::nullopt;
    }
    out.job_id = positional[2];
    out.what = verb == "create" ? command::jobs_create : command::jobs_cancel;
    if (verb == "create" && (out.things.empty() || out.document_file.empty())) {
      error = "jobs create needs --things T1[,T2...] and --document FILE";
      return std::nullopt;
    }
  } else if (verb == "list") {
    out.what = command::jobs_list;
    expected = 2;
    if (out.things.size() > 1) {
      error = "jobs list takes one --thing";
      return std::nullopt;
    }
  } else {
    error = "unknown jobs command " + verb;
    return std::nullopt;
  }
  if (positional.size() != expected) {
    error = "unexpected argument " + positional[expected];
    return std::nullopt;
  }
  return out;
}

}  // namespace

const char* usage_text() noexcept {
  return "usage:\n"
         "  thingwell-emulator [serve] [BROKER] [--data-dir D] [--quiet] [--seconds-per-minute S]\n"
         "      runs the Device Shadow and Jobs services until SIGINT/SIGTERM; one log line per request on stderr;\n"
         "      --seconds-per-minute (emulator-only, default 60) shortens the minutes of job timeouts for tests\n"
         "  thingwell-emulator shadow get THING [--name SHADOW] [BROKER]\n"
         "  thingwell-emulator shadow set-desired THING '{\"color\":\"red\"}' [--name SHADOW] [BROKER]\n"
         "  thingwell-emulator shadow update THING '{\"state\":{...}}' [--name SHADOW] [BROKER]\n"
         "  thingwell-emulator shadow delete THING [--name SHADOW] [BROKER]\n"
         "  thingwell-emulator jobs create JOB_ID --things T1[,T2...] --document FILE [--step-timeout MINUTES]\n"
         "  thingwell-emulator jobs cancel JOB_ID [--force]\n"
         "  thingwell-emulator jobs list [--thing T] [--job JOB_ID] [--json]\n"
         "      ask the running service, as AWS's HTTPS API would; print the answer on stdout;\n"
         "      exit 0 when accepted, 1 when rejected (the error document is printed), 2 on other failures\n"
         "BROKER:\n"
         "  --broker-host H (127.0.0.1)  --broker-port P (1883, or 8883 with TLS)  --client-id ID\n"
         "  --tls-ca FILE --tls-cert FILE --tls-key FILE [--tls-server-name NAME]   mutual TLS\n"
         "  --timeout SECONDS (admin commands, 10)\n";
}

std::optional<command_line> parse_command_line(const std::vector<std::string>& args, std::string& error) {
  command_line out;
  std::vector<std::string> positional;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) {
        error = a + " needs a value";
        return false;
      }
      into = args[++i];
      return true;
    };
    std::string text;
    if (a == "--help" || a == "-h") {
      out.what = command::help;
      return out;
    } else if (a == "--broker-host") {
      if (!value(out.broker.host)) return std::nullopt;
    } else if (a == "--broker-port") {
      if (!value(text)) return std::nullopt;
      if (!parse_number(text, out.broker.port) || out.broker.port == 0) {
        error = "--broker-port: not a port number: " + text;
        return std::nullopt;
      }
    } else if (a == "--tls-ca") {
      if (!value(out.broker.tls_ca)) return std::nullopt;
    } else if (a == "--tls-cert") {
      if (!value(out.broker.tls_cert)) return std::nullopt;
    } else if (a == "--tls-key") {
      if (!value(out.broker.tls_key)) return std::nullopt;
    } else if (a == "--tls-server-name") {
      if (!value(out.broker.tls_server_name)) return std::nullopt;
    } else if (a == "--client-id") {
      if (!value(out.broker.client_id)) return std::nullopt;
    } else if (a == "--data-dir") {
      if (!value(out.data_dir)) return std::nullopt;
    } else if (a == "--name") {
      if (!value(out.shadow_name)) return std::nullopt;
    } else if (a == "--timeout") {
      if (!value(text)) return std::nullopt;
      if (!parse_number(text, out.timeout_seconds) || out.timeout_seconds == 0) {
        error = "--timeout: not a positive number of seconds: " + text;
        return std::nullopt;
      }
    } else if (a == "--quiet") {
      out.quiet = true;
    } else if (a == "--seconds-per-minute") {
      if (!value(text)) return std::nullopt;
      if (!parse_number(text, out.seconds_per_minute) || out.seconds_per_minute == 0) {
        error = "--seconds-per-minute: not a positive number of seconds: " + text;
        return std::nullopt;
      }
    } else if (a == "--things" || a == "--thing") {
      if (!value(text)) return std::nullopt;
      for (std::size_t start = 0;;) {
        const auto comma = text.find(',', start);
        out.things.push_back(text.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (a == "--job") {
      if (!value(out.job_id)) return std::nullopt;
    } else if (a == "--document") {
      if (!value(out.document_file)) return std::nullopt;
    } else if (a == "--step-timeout") {
      if (!value(text)) return std::nullopt;
      unsigned minutes = 0;
      if (!parse_number(text, minutes) || minutes == 0 || minutes > 10080) {
        error = "--step-timeout: not a number of minutes from 1 to 10080: " + text;
        return std::nullopt;
      }
      out.step_timeout_minutes = minutes;
    } else if (a == "--force") {
      out.force = true;
    } else if (a == "--json") {
      out.json_output = true;
    } else if (a.starts_with("--")) {
      error = "unknown option " + a;
      return std::nullopt;
    } else {
      positional.push_back(a);
    }
  }

  const bool tls_any = !out.broker.tls_ca.empty() || !out.broker.tls_cert.empty() || !out.broker.tls_key.empty();
  const bool tls_all = !out.broker.tls_ca.empty() && !out.broker.tls_cert.empty() && !out.broker.tls_key.empty();
  if (tls_any && !tls_all) {
    error = "--tls-ca, --tls-cert and --tls-key go together (the broker is reached with mutual TLS)";
    return std::nullopt;
  }

  if (positional.empty() || (positional.size() == 1 && positional[0] == "serve")) {
    out.what = command::serve;
    return out;
  }
  if (positional[0] == "jobs") return parse_jobs_command(positional, std::move(out), error);
  if (positional[0] != "shadow" || positional.size() < 3) {
    error = "unknown command";
    return std::nullopt;
  }
  const std::string& verb = positional[1];
  out.thing = positional[2];
  std::size_t expected = 3;
  if (verb == "get") {
    out.what = command::shadow_get;
  } else if (verb == "delete") {
    out.what = command::shadow_delete;
  } else if (verb == "set-desired" || verb == "update") {
    out.what = verb == "update" ? command::shadow_update : command::shadow_set_desired;
    expected = 4;
    if (positional.size() < 4) {
      error = "shadow " + verb + " needs a JSON document after the thing name";
      return std::nullopt;
    }
    out.document = positional[3];
  } else {
    error = "unknown shadow command " + verb;
    return std::nullopt;
  }
  if (positional.size() != expected) {
    error = "unexpected argument " + positional[expected];
    return std::nullopt;
  }
  return out;
}

}  // namespace thingwell::emulator
