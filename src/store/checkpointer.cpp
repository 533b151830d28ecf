#include "store/checkpointer.hpp"

#include <utility>

#include "store/database.hpp"

namespace herd::store {

Checkpointer::Checkpointer(Database& database, OnFailure on_failure)
    : database_(database), on_failure_(std::move(on_failure)), thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Checkpointer::request() {
  {
    const std::lock_guard lock(mutex_);
    if (asked_) return;
    asked_ = true;
  }
  wake_.notify_one();
}

void Checkpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || asked_; });
    if (stopping_) return;
    asked_ = false;
    lock.unlock();
    const bool done = checkpoint_once();
    lock.lock();
    if (!done && !wake_.wait_for(lock, kRetryAfter, [this] { return stopping_; })) asked_ = true;
  }
}

bool Checkpointer::checkpoint_once() {
  try {
    return database_.checkpoint();
  } catch (const StoreError& e) {
    on_failure_(std::string(e.what()) + "; to be tried again after more commits");
    return true;
  }
}

}  // namespace herd::store
