#include "text/printable.hpp"

namespace herd::text {

void append_printable(std::string& out, std::string_view text) {
  // Every request is logged through here, and nearly all its bytes are plain: they are
  // appended a run at a time, since a byte at a time was 15% of the event loop's CPU
  // (docs/durability-costs.md).
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != 0x7f) continue;
    out.append(text.substr(start, i - start));
    start = i + 1;
    if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else {
      const char escaped[] = {'\\', 'x', kHex[byte >> 4], kHex[byte & 0xf]};
      out.append(escaped, sizeof escaped);
    }
  }
  out.append(text.substr(start));
}

std::string printable(std::string_view text) {
  std::string out;
  append_printable(out, text);
  return out;
}

}  // namespace herd::text
