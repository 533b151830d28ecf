// A token bucket: at most `burst` calls at once, refilled at `rate` calls per second.
//
// Pure arithmetic: the caller passes the time in, so tests need no clock. Not thread-safe;
// its owner serialises access (FrugalSource keeps it on a strand).
#pragma once

#include <algorithm>
#include <chrono>

namespace herd::places {

class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts full: a server that has just started may make `burst` calls at once.
  TokenBucket(double rate_per_second, double burst, Clock::time_point now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token if there is one. Time going backwards adds nothing.
  bool try_take(Clock::time_point now) {
    if (now > last_) {
      const std::chrono::duration<double> passed = now - last_;
      tokens_ = std::min(burst_, tokens_ + passed.count() * rate_);
      last_ = now;
    }
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace herd::places
