// An event loop driven by hand, for tests of what batches by the loop's turn
// (loop/after_turn.hpp): work posted to it waits until the test runs it.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "loop/after_turn.hpp"

namespace herd::testing {

class ManualLoop {
 public:
  // A Post for the code under test; the loop must outlive what holds it.
  loop::Post post() {
    return [this](std::function<void()> work) {
      const std::lock_guard lock(mutex_);
      queued_.push_back(std::move(work));
    };
  }

  std::size_t queued() const {
    const std::lock_guard lock(mutex_);
    return queued_.size();
  }

  // Runs what is queued now; work it posts waits for the next call.
  void run_queued() {
    std::vector<std::function<void()>> now;
    {
      const std::lock_guard lock(mutex_);
      now.swap(queued_);
    }
    for (auto& work : now) work();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::function<void()>> queued_;
};

}  // namespace herd::testing
