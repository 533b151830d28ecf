#include "store/journal.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "store/database.hpp"

namespace herd::store {

Journal::Journal(Database* database, std::uint64_t committed, OnCommit on_commit,
                 OnFailure on_failure, SnapshotSource snapshots, loop::Post post)
    : database_(database),
      on_commit_(std::move(on_commit)),
      on_failure_(std::move(on_failure)),
      commit_on_loop_(database != nullptr && post && database->sync() == Sync::kWritten),
      end_of_turn_(std::move(post), [this] { end_turn(); }),
      committed_(committed),
      snapshots_(std::move(snapshots)) {
  if (database_ == nullptr) return;
  changes_since_snapshot_ = database_->logged_changes();
  checkpointer_.emplace(*database_, on_failure_);
  thread_ = std::thread([this] { run(); });
}

Journal::~Journal() {
  close();
}

void Journal::close() {
  {
    const std::scoped_lock lock(mutex_, pending_mutex_);
    if (closing_) return;
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  const std::lock_guard writer(writer_);  // a loop may be committing
  checkpointer_.reset();
}

void Journal::append(const Change& change) {
  std::unique_lock lock(pending_mutex_);
  if (database_ == nullptr || closing_) {
    lock.unlock();
    publish(change.seq);
    return;
  }
  const bool first = pending_.empty();
  pending_.add(change);
  lock.unlock();
  if (first) end_of_turn_.request();
}

std::uint64_t Journal::committed() const {
  return committed_.load(std::memory_order_acquire);
}

void Journal::when_committed(std::uint64_t seq, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (committed_.load(std::memory_order_relaxed) < seq) {
      waiters_.emplace(seq, std::move(done));
      return;
    }
  }
  done();
}

void Journal::publish(std::uint64_t seq) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    if (seq <= committed_.load(std::memory_order_relaxed)) return;
    committed_.store(seq, std::memory_order_release);
    auto end = waiters_.upper_bound(seq);
    for (auto it = waiters_.begin(); it != end; ++it) ready.push_back(std::move(it->second));
    waiters_.erase(waiters_.begin(), end);
  }
  on_commit_(seq);
  for (auto& done : ready) done();
}

void Journal::end_turn() {
  if (commit_on_loop_) {
    // A snapshot step, a retry or another loop thread's commit holds the writer: the
    // journal's thread takes this turn's batch after it, rather than the loop waiting.
    const std::unique_lock writer(writer_, std::try_to_lock);
    if (writer.owns_lock()) {
      {
        const std::scoped_lock lock(mutex_, pending_mutex_);
        if (pending_.empty()) return;  // taken with an earlier turn's
        if (!retrying_ && !closing_) {
          std::swap(loop_batch_, pending_);
        }
      }
      if (!loop_batch_.empty()) {
        commit(loop_batch_);  // which hands the batch to the thread if it fails
        return;
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    batch_ready_ = true;
  }
  wake_.notify_one();
}

bool Journal::commit(ChangeBatch& batch) {
  try {
    database_->write(batch);
  } catch (const StoreError& e) {
    std::size_t unwritten = 0;
    bool closing = false;
    {
      const std::scoped_lock lock(mutex_, pending_mutex_);
      // The failed batch goes first again, before what came meanwhile; the thread retries.
      batch.append(pending_);
      std::swap(pending_, batch);
      batch.clear();
      unwritten = pending_.size();
      batch_ready_ = true;
      retrying_ = true;
      closing = closing_;
    }
    wake_.notify_one();
    on_failure_(std::string(e.what()) + "; " + std::to_string(unwritten) +
                (closing ? " changes unwritten at shut-down"
                         : " changes unwritten, tried again every second (AT replies wait)"));
    return false;
  }
  changes_since_snapshot_ += batch.size();
  const std::uint64_t last = batch.last_seq();
  batch.clear();
  {
    std::lock_guard lock(mutex_);
    retrying_ = false;
  }
  if (checkpointer_ && database_->checkpoint_due()) checkpointer_->request();
  publish(last);
  if (snapshot_due()) start_snapshot();
  // The written buffer, warm from SQLite's read of it, takes the next appends, unless some
  // came meanwhile: with two buffers taking turns, each had left the cache by its next
  // use, and encoding a record missed it once (docs/durability-costs.md).
  const std::lock_guard appends(pending_mutex_);
  if (pending_.empty()) std::swap(batch, pending_);
  return true;
}

bool Journal::snapshot_due() const {
  return snapshots_.read && !compacting_ && changes_since_snapshot_ >= kCompactAfter &&
         changes_since_snapshot_ >= 2 * snapshots_.size();
}

void Journal::start_snapshot() {
  {
    std::lock_guard lock(mutex_);
    compacting_ = true;
  }
  changes_since_snapshot_ = 0;
  wake_.notify_one();  // whose thread writes it, between batches
}

void Journal::run() {
  ChangeBatch batch;
  for (;;) {
    bool failed = false;
    bool last = false;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return closing_ || batch_ready_ || compacting_; });
      lock.unlock();
      const std::lock_guard writer(writer_);
      lock.lock();
      last = closing_;
      if (batch_ready_ || closing_) {
        const std::lock_guard appends(pending_mutex_);
        std::swap(batch, pending_);
        batch_ready_ = false;
      }
      lock.unlock();
      if (!batch.empty()) failed = !commit(batch);
    }
    if (last) return;  // what was pending at close is written, or given up
    if (failed) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    } else {
      compact_step();
    }
  }
}

void Journal::compact_step() {
  // Small steps: while one holds the writer, the loop's batches wait for the journal's
  // thread. The store's lock is held for a slice at a time, as every request waits for it.
  // Making the new generation's file and syncing it take milliseconds, and need no writer.
  constexpr std::size_t kRecordsAStep = 2048;
  constexpr std::size_t kRecordsASlice = 256;
  {
    std::lock_guard lock(mutex_);
    if (!compacting_) return;
  }
  try {
    if (!snapshot_begun_) {
      database_->prepare_snapshot();
      const std::lock_guard writer(writer_);
      database_->begin_snapshot();
      // Every change up to here is in the older generations, and every later one goes to
      // the new: the snapshot holds the records as they were here.
      snapshot_through_ = committed_.load(std::memory_order_relaxed);
      snapshot_after_ = 0;
      snapshot_begun_ = true;
      return;
    }
    {
      const std::lock_guard writer(writer_);
      std::vector<StoredRecord> records;
      std::uint64_t after = snapshot_after_;
      while (records.size() < kRecordsAStep) {
        auto slice = snapshots_.read(after, snapshot_through_, kRecordsASlice);
        if (slice.empty()) break;
        after = slice.back().lsn;
        std::move(slice.begin(), slice.end(), std::back_inserter(records));
      }
      if (!records.empty()) {
        database_->write_snapshot(records);
        snapshot_after_ = after;
        return;
      }
    }
    database_->finish_snapshot();
  } catch (const StoreError& e) {
    on_failure_(std::string(e.what()) + "; snapshot abandoned, to be tried again later");
  }
  snapshot_begun_ = false;
  const std::scoped_lock lock(writer_, mutex_);
  compacting_ = false;
}

}  // namespace herd::store
