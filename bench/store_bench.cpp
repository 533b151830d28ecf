// What the data file costs a record: Database::write of batches of 1 to 1000 records, as
// the journal hands them over (docs/durability.md), with the checkpointer's thread copying
// the WAL into the file when a write finds it due, as in a server, so that the WAL is
// written over from its start rather than grown for ever. Real files in a temporary
// directory.
//
// DataFileWriteCold writes one record at a time with the CPU's caches emptied before each
// write (untimed), as a server idle between a lone client's lines finds them: whatever ran
// meanwhile has taken them, and SQLite's commit then runs from memory.
//
// StoreOffer/N times RecordStore::offer call by call, in memory (no data file), for N new
// clients and then 3N updates of clients picked at random, as a server that grows to N
// clients sees them. Besides the mean it reports the longest call of each kind: the
// store's lock is held that long, and every request on every thread waits behind it (the
// table by client growing, the LSN index squeezing out empty slots).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "protocol/request.hpp"
#include "store/checkpointer.hpp"
#include "store/database.hpp"
#include "store/record_store.hpp"

namespace {

using namespace herd;

// Larger than the L2 cache of this project's machine (2 MiB a core) four times over.
constexpr std::size_t kEvictBytes = std::size_t{8} << 20;

// Writes batches of state.range(0) records; with `cold`, touches kEvictBytes of other
// memory before each write.
void write_batches(benchmark::State& state, bool cold) {
  const auto batch_size = static_cast<std::size_t>(state.range(0));
  std::vector<char> elsewhere(cold ? kEvictBytes : 0);
  const auto dir =
      std::filesystem::temp_directory_path() / ("herd-store-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    store::Contents contents;
    store::Database database(dir / "Clark.db", store::Sync::kWritten, contents);
    // A failed checkpoint is reported on the checkpointer's thread; State is not for
    // other threads, so the benchmark's own reports it once the loop is done.
    std::mutex failure_mutex;
    std::string failure;
    store::Checkpointer checkpointer(database, [&](const std::string& message) {
      const std::lock_guard lock(failure_mutex);
      if (failure.empty()) failure = message;
    });
    std::uint64_t seq = contents.boot << store::kBootShift;
    store::ChangeBatch batch;
    for ([[maybe_unused]] auto _ : state) {
      batch.clear();
      for (std::size_t i = 0; i < batch_size; ++i) {
        ++seq;
        // 100,000 clients, updated in turn.
        const std::string client = "client-" + std::to_string(seq % 100'000);
        batch.add(store::Change::put(
            seq, client,
            "AT Clark +0.263873386 " + client + " +34.068930-118.445127 1621464827.959498503"));
      }
      if (cold) {
        state.PauseTiming();
        for (std::size_t i = 0; i < elsewhere.size(); i += 64) ++elsewhere[i];
        benchmark::DoNotOptimize(elsewhere.data());
        state.ResumeTiming();
      }
      database.write(batch);
      if (database.checkpoint_due()) checkpointer.request();
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch_size));
    const std::lock_guard lock(failure_mutex);
    if (!failure.empty()) state.SkipWithError(failure.c_str());
  }
  std::filesystem::remove_all(dir);
}
void DataFileWrite(benchmark::State& state) {
  write_batches(state, false);
}
void DataFileWriteCold(benchmark::State& state) {
  write_batches(state, true);
}
// The record a neighbour's AT line for client `client` at client time `time` carries.
protocol::Record record_of(std::size_t client, std::size_t time) {
  const std::string line = "AT Clark +0.263873386 client-" + std::to_string(client) +
                           ".cs.ucla.edu +34.068930-118.445127 " +
                           std::to_string(1'621'464'827 + time) + ".959498503";
  return std::get<protocol::At>(protocol::parse_request(line)).record;
}

// Offers `count` records, record(i) for i in [0, count), and reports the mean and the
// longest call as counters named after `what`.
template <typename RecordFor>
void time_offers(benchmark::State& state, store::RecordStore& records, const char* what,
                 std::size_t count, RecordFor record) {
  using Clock = std::chrono::steady_clock;
  Clock::duration total{};
  Clock::duration longest{};
  for (std::size_t i = 0; i < count; ++i) {
    const protocol::Record offered = record(i);
    const auto start = Clock::now();
    benchmark::DoNotOptimize(records.offer(offered, "", protocol::Timestamp{}));
    const auto took = Clock::now() - start;
    total += took;
    longest = std::max(longest, took);
  }
  const auto micros = [](Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
  };
  state.counters[std::string(what) + "_mean_us"] = micros(total) / static_cast<double>(count);
  state.counters[std::string(what) + "_longest_us"] = micros(longest);
}

void StoreOffer(benchmark::State& state) {
  const auto clients = static_cast<std::size_t>(state.range(0));
  for ([[maybe_unused]] auto _ : state) {
    store::Journal journal(
        nullptr, 0, [](std::uint64_t) {}, [](const std::string&) {});
    store::RecordStore records({}, journal, "0123456789abcdef", 1);
    time_offers(state, records, "new", clients, [](std::size_t i) { return record_of(i, 0); });
    std::mt19937_64 random(1);
    time_offers(state, records, "update", 3 * clients,
                [&](std::size_t i) { return record_of(random() % clients, i + 1); });
  }
}

BENCHMARK(DataFileWrite)->Arg(1)->Arg(10)->Arg(100)->Arg(1000);
// A fixed count: emptying the caches takes far longer than the write it precedes.
BENCHMARK(DataFileWriteCold)->Arg(1)->Iterations(5000);
// Once each: a run is four million calls, each timed.
BENCHMARK(StoreOffer)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace

BENCHMARK_MAIN();
