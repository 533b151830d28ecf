// Writes JSON in the layout of Google's legacy Places answers (JsonCpp's styled writer),
// so that every body the herd makes itself looks like one Google made.
//
// The rules, from ../shared/PROTOCOL.md: three spaces of indent, `"key" : value`, keys sorted
// bytewise, `[]`/`{}` when empty, short arrays of scalars on one line, `<` and `>` escaped as
// \u003c and \u003e, integers plainly and other numbers as `%.16g`, one final newline.
//
// Where the contract leaves a choice: other control characters are written \u00xx in lower-case
// hex (as JsonCpp does); a whole-valued double prints as %.16g does ("5", no ".0"), in the C
// locale whatever the process's; a non-finite double, which JSON cannot spell, is `null`.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace herd::json {

std::string write_styled(const boost::json::value& value);

}  // namespace herd::json
