// A wake-up for one coroutine waiting on state that others change on the same strand.
//
// Asio has no condition variable for coroutines; a timer that never expires by itself and is
// cancelled to notify does the job. All users must share one strand, so a notify can only
// happen while the waiter is suspended, and none is lost.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace herd::server {

class Signal {
 public:
  explicit Signal(const boost::asio::any_io_executor& executor)
      : timer_(executor, boost::asio::steady_timer::time_point::max()) {}

  boost::asio::awaitable<void> wait() {
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  // Wakes a waiter; does nothing when there is none.
  void notify() { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

}  // namespace herd::server
