// thingwell — clientToken values for AWS service requests.
//
// AWS echoes the clientToken of a request in its answer; that is the only way to tell our answers from
// those of another client of the same thing, and one request from the next. A token is
// "<prefix>-<nonce>-<counter>": the prefix names the device (like the classic AWS SDK, which uses the
// client id), the nonce differs between boots so that a late answer to the previous boot's request is not
// taken for one of ours, and the counter differs between requests. At most 64 bytes, AWS's limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../core/config.hpp"
#include "limits.hpp"

namespace thingwell::aws {

// One token, stored inline.
struct client_token {
  char data[max_client_token];
  std::uint8_t size = 0;

  std::string_view view() const noexcept { return {data, size}; }
  bool empty() const noexcept { return size == 0; }
  void clear() noexcept { size = 0; }
  bool matches(std::string_view s) const noexcept { return size != 0 && view() == s; }
};

class client_token_generator {
 public:
  // Only the last max_prefix bytes of a longer prefix are used (the end of a client id is usually the
  // part that differs between devices); bytes outside [A-Za-z0-9:_-] become '_'.
  static constexpr std::size_t max_prefix = 40;

  explicit client_token_generator(std::string_view prefix = "tw", std::uint32_t nonce = 0) noexcept : nonce_(nonce) {
    if (prefix.size() > max_prefix) prefix.remove_prefix(prefix.size() - max_prefix);
    for (char c : prefix) prefix_[prefix_size_++] = detail::is_name_char(c) ? c : '_';
  }

  client_token next() noexcept {
    client_token t;
    std::size_t n = 0;
    for (std::size_t i = 0; i < prefix_size_; ++i) t.data[n++] = prefix_[i];
    if (n != 0) t.data[n++] = '-';
    n = put_hex(t.data, n, nonce_);
    t.data[n++] = '-';
    n = put_hex(t.data, n, ++counter_);
    t.size = static_cast<std::uint8_t>(n);  // at most 40 + 1 + 8 + 1 + 8 = 58
    return t;
  }

  std::uint32_t issued() const noexcept { return counter_; }

 private:
  static std::size_t put_hex(char* out, std::size_t n, std::uint32_t v) noexcept {
    char digits[8];
    std::size_t k = 0;
    do {
      digits[k++] = "0123456789abcdef"[v & 15u];
      v >>= 4;
    } while (v != 0);
    while (k != 0) out[n++] = digits[--k];
    return n;
  }

  char prefix_[max_prefix];
  std::size_t prefix_size_ = 0;
  std::uint32_t nonce_;
  std::uint32_t counter_ = 0;
};

}  // namespace thingwell::aws
