// A decorator that keeps a paid places source (Google's) frugal and well-behaved.
//
// - Identical queries under way at once (same latitude, longitude and radius, as written)
//   share one upstream call; every waiter gets its answer (the server trims it to each
//   client's own bound).
// - An optional cache: an answer with status OK or ZERO_RESULTS is reused for the same
//   query for `cache_ttl` (off when zero, the default, since Google's terms limit caching).
// - A token bucket of upstream calls per second: past it, OVER_QUERY_LIMIT, no call made.
// - At most `max_concurrent_calls` upstream calls at once: a query past the cap waits for a
//   free slot until `slot_wait` has passed, then gets OVER_QUERY_LIMIT, no call made.
// Its state lives on one strand, so it is safe with an event loop run by several threads.
// Answers a query without asking upstream only with a body of the legacy shape.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "log/event_log.hpp"
#include "places/places_source.hpp"

namespace herd::places {

struct FrugalOptions {
  std::chrono::milliseconds cache_ttl{0};   // 0: no cache
  std::uint32_t max_calls_per_second = 10;  // 0: no limit
  std::uint32_t burst = 20;
  std::uint32_t max_concurrent_calls = 16;  // at least 1
  std::chrono::milliseconds slot_wait{5000};
  // The clock of the cache and the limiter; tests pass their own.
  std::function<std::chrono::steady_clock::time_point()> now = std::chrono::steady_clock::now;
};

class FrugalSource : public PlacesSource {
 public:
  FrugalSource(const boost::asio::any_io_executor& executor, std::unique_ptr<PlacesSource> upstream,
               FrugalOptions options, log::EventLog& log);
  ~FrugalSource() override;

  boost::asio::awaitable<std::string> nearby(PlacesQuery query) override;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace herd::places
