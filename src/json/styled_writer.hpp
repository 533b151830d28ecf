// Writes JSON in the layout of Google's legacy Places answers (JsonCpp's styled writer),
// so that every body the herd makes itself looks like one Google made.
//
// The rules, from ../shared/PROTOCOL.md: three spaces of indent, `"key" : value`, keys sorted
// bytewise, `[]`/`{}` when empty, short arrays of scalars on one line, `<` and `>` escaped as
// \u003c and \u003e, integers plainly and other numbers as `%.16g`, one final newline.
#pragma once

#include <boost/json/value.hpp>
#include <string>

namespace herd::json {

std::string write_styled(const boost::json::value& value);

}  // namespace herd::json
