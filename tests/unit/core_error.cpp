// thingwell::errc, its category, and how it mixes with the standard error machinery.
#include <doctest/doctest.h>

#include <ostream>  // doctest prints std::error_code through <system_error>'s operator<<, which needs it

#include <cstring>
#include <string>
#include <system_error>
#include <type_traits>

#include <thingwell/core/error.hpp>

namespace tw = thingwell;
using tw::errc;

namespace {

// Every enumerator, written out by hand: a value added to errc without a message shows up here as a
// failure of the "every code has its own message" case once it is listed, and the list documents the
// numbering ranges that is_malformed() depends on.
constexpr errc all_codes[] = {
    errc::invalid_argument, errc::buffer_too_small, errc::capacity_exceeded, errc::would_block, errc::timed_out,
    errc::cancelled, errc::not_connected, errc::not_supported, errc::busy, errc::closed,

    errc::malformed_packet, errc::truncated, errc::trailing_bytes, errc::bad_varint, errc::bad_packet_type,
    errc::bad_header_flags, errc::bad_utf8, errc::bad_qos, errc::bad_property, errc::duplicate_property,
    errc::property_not_allowed, errc::bad_reason_code, errc::bad_connect_flags, errc::bad_protocol_name,
    errc::bad_subscription_options, errc::empty_payload,

    errc::protocol_error, errc::unsupported_protocol_version, errc::bad_topic_name, errc::bad_topic_filter,
    errc::bad_packet_id, errc::packet_too_large, errc::string_too_long, errc::topic_alias_invalid,
    errc::receive_maximum_exceeded, errc::unknown_packet_id, errc::packet_id_exhausted, errc::unexpected_packet,

    errc::topic_too_long, errc::topic_too_many_levels, errc::payload_too_large, errc::client_id_invalid,
    errc::too_many_topic_filters, errc::too_many_subscriptions, errc::keep_alive_out_of_range,
    errc::qos_not_supported, errc::retain_not_supported, errc::rate_limited,

    errc::connection_refused, errc::connection_reset, errc::host_not_found, errc::network_unreachable,
    errc::keep_alive_timeout, errc::connect_timeout, errc::server_disconnected, errc::not_authorized,
    errc::bad_credentials, errc::server_unavailable, errc::insecure_transport,

    errc::tls_handshake_failed, errc::tls_certificate_untrusted, errc::tls_certificate_expired,
    errc::tls_hostname_mismatch, errc::tls_client_certificate_rejected, errc::tls_protocol_version,
    errc::tls_bad_credentials, errc::tls_alpn_rejected,

    errc::storage_corrupt, errc::storage_full, errc::storage_io, errc::not_found, errc::outbox_full,

    errc::json_syntax, errc::json_too_deep, errc::json_too_large, errc::json_bad_number, errc::json_bad_string,
    errc::json_bad_utf8, errc::json_type_mismatch, errc::json_number_out_of_range,

    errc::shadow_document_too_large, errc::thing_name_invalid, errc::shadow_name_invalid, errc::aws_rejected,
    errc::aws_bad_request, errc::aws_version_conflict, errc::aws_payload_too_large, errc::aws_throttled,
    errc::aws_service_error,

    errc::job_id_invalid, errc::job_status_details_invalid, errc::job_state_transition_invalid,
    errc::job_terminal_state,
};

constexpr const char* unknown_text = "unknown thingwell error";

}  // namespace

TEST_CASE("errc plugs into std::error_code") {
  static_assert(std::is_error_code_enum_v<errc>);
  // Implicit conversion is what lets every fallible function simply `return errc::...;`.
  static_assert(std::is_convertible_v<errc, std::error_code>);

  const std::error_code ec = errc::truncated;
  CHECK(ec);
  CHECK(ec.value() == static_cast<int>(errc::truncated));
  CHECK(&ec.category() == &tw::thingwell_category());
  CHECK(std::strcmp(ec.category().name(), "thingwell") == 0);
  CHECK(ec == errc::truncated);
  CHECK(errc::truncated == ec);
  CHECK(ec != errc::bad_varint);
  CHECK(ec == tw::make_error_code(errc::truncated));

  // The category is one object: every call hands out the same instance, so codes compare by value.
  CHECK(&tw::thingwell_category() == &tw::thingwell_category());

  // The same number in another category is a different error.
  const std::error_code generic{static_cast<int>(errc::truncated), std::generic_category()};
  CHECK(generic != ec);
  CHECK_FALSE(generic == errc::truncated);

  // A default error_code is "no error" and never equals a thingwell code.
  const std::error_code none;
  CHECK_FALSE(none);
  CHECK(none != errc::invalid_argument);

  // Conditions: thingwell codes map onto themselves (no std::errc equivalence is claimed).
  const std::error_condition cond = ec.default_error_condition();
  CHECK(&cond.category() == &tw::thingwell_category());
  CHECK(cond.value() == ec.value());
  CHECK(ec == cond);
  CHECK(ec != std::errc::timed_out);
  CHECK(std::error_code(errc::timed_out) != std::errc::timed_out);
}

TEST_CASE("every code has its own message, and describe() agrees with message()") {
  for (std::size_t i = 0; i < std::size(all_codes); ++i) {
    const errc e = all_codes[i];
    CAPTURE(static_cast<int>(e));
    const char* text = tw::describe(e);
    REQUIRE(text != nullptr);
    CHECK(std::strlen(text) > 0);
    CHECK(std::strcmp(text, unknown_text) != 0);
    CHECK(std::error_code(e).message() == text);
    CHECK(tw::thingwell_category().message(static_cast<int>(e)) == text);
    for (std::size_t j = 0; j < i; ++j) {
      CAPTURE(static_cast<int>(all_codes[j]));
      CHECK(std::strcmp(text, tw::describe(all_codes[j])) != 0);  // a copy-pasted message hides which error it was
    }
  }
}

TEST_CASE("unknown values get a generic message instead of garbage") {
  CHECK(std::strcmp(tw::describe(static_cast<errc>(0)), unknown_text) == 0);
  CHECK(std::strcmp(tw::describe(static_cast<errc>(99)), unknown_text) == 0);
  CHECK(std::strcmp(tw::describe(static_cast<errc>(-7)), unknown_text) == 0);
  CHECK(tw::thingwell_category().message(12345) == unknown_text);
}

TEST_CASE("is_malformed covers exactly the codec range 100..199 of the thingwell category") {
  for (errc e : all_codes) {
    CAPTURE(static_cast<int>(e));
    const int v = static_cast<int>(e);
    CHECK(tw::is_malformed(e) == (v >= 100 && v < 200));
  }
  CHECK(tw::is_malformed(errc::malformed_packet));
  CHECK(tw::is_malformed(errc::bad_varint));
  // MQTT 5 calls these Protocol Errors (0x82), not Malformed Packets.
  CHECK_FALSE(tw::is_malformed(errc::empty_payload));
  CHECK_FALSE(tw::is_malformed(errc::duplicate_property));
  CHECK_FALSE(tw::is_malformed(errc::protocol_error));
  CHECK_FALSE(tw::is_malformed(errc::closed));
  CHECK_FALSE(tw::is_malformed(std::error_code{}));
  // A foreign category with a value in the range is not an MQTT malformed packet.
  CHECK_FALSE(tw::is_malformed(std::error_code{static_cast<int>(errc::truncated), std::generic_category()}));
  CHECK_FALSE(tw::is_malformed(std::make_error_code(std::errc::invalid_argument)));
}

TEST_CASE("error codes work as plain values: copy, assign, clear") {
  std::error_code ec = errc::busy;
  std::error_code copy = ec;
  CHECK(copy == errc::busy);
  copy = errc::closed;
  CHECK(copy == errc::closed);
  CHECK(ec == errc::busy);
  copy.clear();
  CHECK_FALSE(copy);
}
