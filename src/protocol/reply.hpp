// Formatting what a server says: records, replies and the neighbour introduction.
#pragma once

#include <string>
#include <string_view>

#include "protocol/record.hpp"
#include "protocol/request.hpp"
#include "protocol/timestamp.hpp"

namespace herd::protocol {

// The record for an IAMAT received by `server` at `received`: the AT line echoes the
// client's fields byte for byte.
Record make_record(std::string_view server, Timestamp received, const IamAt& iamat);

// `AT ...\n`
std::string at_reply(const Record& record);

// `? <line>\n`
std::string invalid_reply(std::string_view line);

// The stored AT line, `\n`, the places JSON (already trimmed and normalised), `\n\n`.
std::string whatsat_reply(const Record& record, std::string_view places_json);

// `HERD <server>\n`, or `HERD <server> <nonce>\n` to open an authenticated link.
std::string hello_line(std::string_view server, std::string_view nonce = {});

}  // namespace herd::protocol
