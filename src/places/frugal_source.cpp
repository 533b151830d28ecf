#include "places/frugal_source.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <utility>

#include "limits/token_bucket.hpp"
#include "places/source_failure.hpp"
#include "protocol/places_json.hpp"

namespace herd::places {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The cache cannot grow without bound, whatever the TTL and the traffic.
constexpr std::size_t kMaxCached = 10'000;

std::string key_of(const PlacesQuery& query) {
  return query.latitude + ' ' + query.longitude + ' ' + query.radius_metres;
}

// Only answers that say something about the place are worth keeping: an error may be gone
// on the next call.
bool cacheable(const std::string& body) {
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return false;
  const boost::json::value* status = value.as_object().if_contains("status");
  return status && status->is_string() &&
         (status->as_string() == "OK" || status->as_string() == "ZERO_RESULTS");
}

}  // namespace

struct FrugalSource::State : std::enable_shared_from_this<FrugalSource::State> {
  using Strand = asio::strand<asio::any_io_executor>;

  // One upstream call that others with the same query wait on; the timer never expires by
  // itself and is cancelled when the answer is in, waking every waiter at once.
  struct Flight {
    explicit Flight(const Strand& strand) : done(strand, Clock::time_point::max()) {}
    asio::steady_timer done;
    std::string answer;
  };

  // A query waiting for a free upstream slot; whoever frees one hands it over directly.
  struct SlotWaiter {
    SlotWaiter(const Strand& strand, Clock::time_point deadline) : timer(strand, deadline) {}
    asio::steady_timer timer;
    bool granted = false;
  };

  struct Cached {
    std::string body;
    Clock::time_point expires;
  };

  State(const asio::any_io_executor& executor, std::unique_ptr<PlacesSource> inner, FrugalOptions o,
        log::EventLog& l)
      : strand(asio::make_strand(executor)),
        upstream(std::move(inner)),
        options(std::move(o)),
        log(l) {
    if (options.max_calls_per_second > 0) {
      bucket.emplace(options.max_calls_per_second, options.burst, options.now());
    }
    if (options.max_concurrent_calls == 0) options.max_concurrent_calls = 1;
  }

  // Runs on the strand; frames own the state, so it outlives any of them.
  asio::awaitable<std::string> lookup(PlacesQuery query) {
    auto self = shared_from_this();
    const std::string key = key_of(query);

    if (auto hit = cached(key)) co_return std::move(*hit);

    if (auto found = flights.find(key); found != flights.end()) {
      std::shared_ptr<Flight> flight = found->second;
      co_await flight->done.async_wait(kTuple);
      co_return flight->answer;
    }

    if (bucket && !bucket->try_take(options.now())) {
      log_failure(log, "places call refused: " + limit_message());
      co_return protocol::places_error_body("OVER_QUERY_LIMIT", limit_message());
    }

    auto flight = std::make_shared<Flight>(strand);
    flights.emplace(key, flight);
    if (co_await acquire_slot()) {
      flight->answer = co_await call_upstream(query);
      release_slot();
      remember(key, flight->answer);
    } else {
      const std::string message = "herd's limit of " +
                                  std::to_string(options.max_concurrent_calls) +
                                  " places calls at once stayed reached for " +
                                  std::to_string(options.slot_wait.count()) + " ms; no call made";
      log_failure(log, "places call refused: " + message);
      flight->answer = protocol::places_error_body("OVER_QUERY_LIMIT", message);
    }
    flights.erase(key);
    flight->done.cancel();
    co_return flight->answer;
  }

  std::string limit_message() const {
    return "herd's limit of " + std::to_string(options.max_calls_per_second) +
           " places calls per second reached; no call made";
  }

  asio::awaitable<std::string> call_upstream(PlacesQuery query) {
    std::string failure;
    try {
      co_return co_await upstream->nearby(std::move(query));
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "places request failed";
    }
    // Sources promise not to throw; should one, its waiters still get an answer.
    co_return unknown_error(log, "places call", failure, "");
  }

  asio::awaitable<bool> acquire_slot() {
    if (active < options.max_concurrent_calls) {
      ++active;
      co_return true;
    }
    auto waiter = std::make_shared<SlotWaiter>(strand, Clock::now() + options.slot_wait);
    slot_waiters.push_back(waiter);
    co_await waiter->timer.async_wait(kTuple);
    if (waiter->granted) co_return true;
    std::erase(slot_waiters, waiter);
    co_return false;
  }

  void release_slot() {
    if (slot_waiters.empty()) {
      --active;
      return;
    }
    auto next = std::move(slot_waiters.front());
    slot_waiters.pop_front();
    next->granted = true;  // the slot passes on; `active` stays as it is
    next->timer.cancel();
  }

  std::optional<std::string> cached(const std::string& key) {
    if (options.cache_ttl.count() == 0) return std::nullopt;
    auto found = cache.find(key);
    if (found == cache.end()) return std::nullopt;
    if (options.now() >= found->second.expires) {
      cache.erase(found);
      return std::nullopt;
    }
    return found->second.body;
  }

  void remember(const std::string& key, const std::string& body) {
    if (options.cache_ttl.count() == 0 || !cacheable(body)) return;
    const Clock::time_point now = options.now();
    if (cache.size() >= kMaxCached) {
      std::erase_if(cache, [now](const auto& entry) { return now >= entry.second.expires; });
      if (cache.size() >= kMaxCached) cache.erase(cache.begin());
    }
    cache.insert_or_assign(key, Cached{body, now + options.cache_ttl});
  }

  Strand strand;
  std::unique_ptr<PlacesSource> upstream;
  FrugalOptions options;
  log::EventLog& log;
  std::optional<limits::TokenBucket> bucket;
  std::map<std::string, std::shared_ptr<Flight>> flights;
  std::uint32_t active = 0;
  std::deque<std::shared_ptr<SlotWaiter>> slot_waiters;
  std::map<std::string, Cached> cache;
};

FrugalSource::FrugalSource(const boost::asio::any_io_executor& executor,
                           std::unique_ptr<PlacesSource> upstream, FrugalOptions options,
                           log::EventLog& log)
    : state_(std::make_shared<State>(executor, std::move(upstream), std::move(options), log)) {}

FrugalSource::~FrugalSource() = default;

boost::asio::awaitable<std::string> FrugalSource::nearby(PlacesQuery query) {
  auto state = state_;
  co_return co_await asio::co_spawn(state->strand, state->lookup(std::move(query)),
                                    asio::use_awaitable);
}

}  // namespace herd::places
