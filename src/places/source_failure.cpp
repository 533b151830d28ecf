#include "places/source_failure.hpp"

#include "protocol/places_json.hpp"

namespace herd::places {

std::string without_secret(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at)) {
    text.replace(at, secret.size(), "REDACTED");
  }
  return text;
}

void log_failure(log::EventLog& log, std::string_view text) noexcept {
  try {
    log.failure(text);
  } catch (...) {
    // Nothing better to do: the client's answer matters more than the log line.
  }
}

std::string unknown_error(log::EventLog& log, std::string_view call, std::string failure,
                          const std::string& secret) {
  failure = without_secret(std::move(failure), secret);
  log_failure(log, std::string(call) + " failed: " + failure);
  return protocol::places_error_body("UNKNOWN_ERROR", failure);
}

}  // namespace herd::places
