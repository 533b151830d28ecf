// What either of Google's places sources calls, and with what: the shared HTTP client, the
// endpoint's URL, the API key (sent, never logged: source_failure.hpp) and the event log in
// which a source says what it calls.
#pragma once

#include <memory>
#include <string>

#include "log/event_log.hpp"
#include "places/http_client.hpp"

namespace herd::places {

struct GoogleEndpoint {
  std::shared_ptr<HttpClient> http;
  std::string url;
  std::string api_key;
  log::EventLog& log;
};

}  // namespace herd::places
