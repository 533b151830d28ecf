// Splitting a protocol line into fields.
//
// White space is space, tab, `\r`, `\f` and `\v`; fields are separated by any run of it and
// white space at either end of a line is ignored.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace herd::protocol {

bool is_space(char c);

// The fields of a line; empty for a line holding only white space.
std::vector<std::string_view> split_fields(std::string_view line);

// True for exactly `digits` lower-case hex digits: the form of nonces, proofs, store ids.
bool is_lower_hex(std::string_view text, std::size_t digits);

}  // namespace herd::protocol
