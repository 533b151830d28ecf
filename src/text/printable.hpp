// Outside text made safe for one line of a log or an error message.
//
// `\n` and `\r` become `\n` and `\r`, other control bytes (and DEL) `\xHH`; everything else,
// UTF-8 included, stays as it is. So a hostile client line or config value can neither
// forge a log line nor move a terminal's cursor.
#pragma once

#include <string>
#include <string_view>

namespace herd::text {

void append_printable(std::string& out, std::string_view text);

std::string printable(std::string_view text);

}  // namespace herd::text
