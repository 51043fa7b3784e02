#include "jobs_status_details.hpp"

namespace thingwell::emulator {

namespace {

bool key_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' || c == '_' || c == '-';
}

// Characters (code points) in UTF-8 text, or nothing when one is a control character: C0, DEL, or C1
// (U+0080–U+009F, encoded C2 80–C2 9F). The JSON reader has already refused invalid UTF-8.
std::optional<std::size_t> printable_chars(const std::string& text) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) return std::nullopt;
    if (byte == 0xc2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return std::nullopt;
    }
    if ((byte & 0xc0) != 0x80) ++chars;  // continuation bytes do not start a character
  }
  return chars;
}

}  // namespace

std::optional<std::string> check_status_details(const json_value& details, const status_details_limits& limits) {
  if (!details.is_object()) return "statusDetails must be an object of string values";
  const auto& members = details.as_object();
  if (members.size() > limits.max_members)
    return "statusDetails has " + std::to_string(members.size()) + " entries; the maximum is " +
           std::to_string(limits.max_members);
  for (const auto& m : members) {
    if (m.key.empty() || m.key.size() > limits.max_key_chars)
      return "statusDetails key '" + m.key + "' must be 1 to " + std::to_string(limits.max_key_chars) + " characters";
    for (char c : m.key)
      if (!key_char(c)) return "statusDetails key '" + m.key + "' must match [a-zA-Z0-9:_-]+";
    if (!m.value.is_string()) return "statusDetails value of '" + m.key + "' must be a string";
    const auto chars = printable_chars(m.value.as_string());
    if (!chars) return "statusDetails value of '" + m.key + "' contains control characters";
    if (*chars == 0 || *chars > limits.max_value_chars)
      return "statusDetails value of '" + m.key + "' must be 1 to " + std::to_string(limits.max_value_chars) +
             " characters";
  }
  return std::nullopt;
}

}  // namespace thingwell::emulator
