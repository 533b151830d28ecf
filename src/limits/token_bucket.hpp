// A token bucket: at most `burst` events at once, refilled at `rate` events per second.
//
// Used for paid places calls (places/frugal_source.hpp) and for each client's request rate
// (server/client_session.hpp). Pure arithmetic: the caller passes the time in, so tests need
// no clock. Not thread-safe; its owner serialises access.
#pragma once

#include <algorithm>
#include <chrono>

namespace herd::limits {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full: a server that has just started may take `burst` events at once.
  TokenBucket(double rate_per_second, double burst, Clock::time_point now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token if there is one. Time going backwards adds nothing.
  bool try_take(Clock::time_point now) {
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // How long until try_take can succeed; zero if it can now. A bucket with no rate
  // never refills: the answer is then a very long time.
  Clock::duration time_to_next(Clock::time_point now) {
    refill(now);
    if (tokens_ >= 1.0) return Clock::duration::zero();
    if (rate_ <= 0.0) return std::chrono::hours(24);
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>((1.0 - tokens_) / rate_));
  }

 private:
  void refill(Clock::time_point now) {
    if (now <= last_) return;
    const std::chrono::duration<double> passed = now - last_;
    tokens_ = std::min(burst_, tokens_ + passed.count() * rate_);
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace herd::limits
