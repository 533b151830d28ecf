// Microbenchmarks of the protocol core: the work a server does for each line, without I/O.
#include <benchmark/benchmark.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/line_splitter.hpp"
#include "protocol/places_json.hpp"
#include "protocol/reply.hpp"
#include "protocol/request.hpp"
#include "store/record_store.hpp"

namespace {

using namespace herd;

constexpr std::string_view kIamat =
    "IAMAT kiwi.cs.ucla.edu +34.068930-118.445127 1621464827.959498503";

void ParseIamat(benchmark::State& state) {
  for ([[maybe_unused]] auto _ : state) benchmark::DoNotOptimize(protocol::parse_request(kIamat));
}
BENCHMARK(ParseIamat);

void IamatToReply(benchmark::State& state) {
  const auto iamat = std::get<protocol::IamAt>(protocol::parse_request(kIamat));
  const protocol::Timestamp now{1763773200, 123456789};
  for ([[maybe_unused]] auto _ : state) {
    auto record = protocol::make_record("Clark", now, iamat);
    benchmark::DoNotOptimize(protocol::at_reply(record));
  }
}
BENCHMARK(IamatToReply);

void SplitPipelinedLines(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 1000; ++i) stream.append(kIamat).append("\r\n");
  std::vector<protocol::Line> lines;
  for ([[maybe_unused]] auto _ : state) {
    protocol::LineSplitter splitter;
    lines.clear();
    splitter.feed(stream, lines);
    benchmark::DoNotOptimize(lines.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
}
BENCHMARK(SplitPipelinedLines);

void StoreOfferManyClients(benchmark::State& state) {
  const auto iamat = std::get<protocol::IamAt>(protocol::parse_request(kIamat));
  std::vector<protocol::Record> records;
  for (int i = 0; i < 100000; ++i) {
    auto copy = iamat;
    copy.client_id = "client-" + std::to_string(i);
    records.push_back(protocol::make_record("Clark", {1763773200, i}, copy));
  }
  // In memory: the store's own cost (indexing by LSN included), no data file.
  store::Journal journal(
      nullptr, std::uint64_t{1} << store::kBootShift, [](std::uint64_t) {},
      [](const std::string&) {});
  store::RecordStore store({}, journal, store::make_store_id(), 1);
  std::size_t i = 0;
  std::int32_t round = 0;
  for ([[maybe_unused]] auto _ : state) {
    // Each round of offers is newer than the last, so every offer stores.
    if (i == 0) ++round;
    records[i].client_time.nanoseconds = round;
    benchmark::DoNotOptimize(store.offer(records[i], {}, {0, 0}));
    i = (i + 1) % records.size();
  }
}
BENCHMARK(StoreOfferManyClients);

void TrimResults(benchmark::State& state) {
  std::ifstream in(HERD_SHARED_DIR "/places-samples/bank-3-results.json");
  std::stringstream body;
  body << in.rdbuf();
  const std::string text = body.str();
  for ([[maybe_unused]] auto _ : state) {
    auto trimmed = protocol::trim_results(text, 1);
    benchmark::DoNotOptimize(protocol::collapse_newlines(*trimmed));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(TrimResults);

}  // namespace

BENCHMARK_MAIN();
