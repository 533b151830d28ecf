// What a paid places source does when a call fails: say so in the log and answer the client
// with an UNKNOWN_ERROR body, in both places without the API key.
//
// Shared by the Google sources so that the promise "the key never reaches a log or a reply"
// is kept in one place.
#pragma once

#include <string>
#include <string_view>

#include "log/event_log.hpp"

namespace herd::places {

// `text` with every occurrence of `secret` replaced by REDACTED.
std::string without_secret(std::string text, const std::string& secret);

// Logs a failure; a log that cannot be written must not cost the client its answer.
void log_failure(log::EventLog& log, std::string_view text) noexcept;

// Logs "<call> failed: <failure>" and returns the UNKNOWN_ERROR body carrying `failure`,
// `secret` removed from both.
std::string unknown_error(log::EventLog& log, std::string_view call, std::string failure,
                          const std::string& secret);

}  // namespace herd::places
