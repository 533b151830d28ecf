// Batching by the event loop's turn: an action asked for any number of times runs once,
// after the work that was queued on the loop when it was first asked for.
//
// That is how a busy moment's output goes out in one piece (the log's lines in one write,
// the records of many IAMATs in one transaction) without a timer: under load the loop's
// queue is long and many requests share one action; when the loop is idle the action runs
// at once. Without a loop to post to, request() runs the action on the spot.
#pragma once

#include <atomic>
#include <functional>
#include <utility>

namespace herd::loop {

// Queues work on an event loop, behind what is already queued there.
using Post = std::function<void(std::function<void()> work)>;

class AfterTurn {
 public:
  AfterTurn(Post post, std::function<void()> action)
      : post_(std::move(post)), action_(std::move(action)) {}
  AfterTurn(const AfterTurn&) = delete;
  AfterTurn& operator=(const AfterTurn&) = delete;

  // From any thread. The action posted runs with every request made before it starts.
  void request() {
    if (!post_) return action_();
    if (posted_.exchange(true, std::memory_order_acq_rel)) return;
    post_([this] {
      // Cleared first: a request made while the action runs gets an action of its own.
      posted_.store(false, std::memory_order_release);
      action_();
    });
  }

 private:
  Post post_;
  std::function<void()> action_;
  std::atomic<bool> posted_{false};
};

}  // namespace herd::loop
