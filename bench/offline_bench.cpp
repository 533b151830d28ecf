// The offline places source's search on the real GeoNames data: one query, start to body,
// in dense regions at 50 km (the protocol's largest radius) and at 1 km.
#include <benchmark/benchmark.h>

#include "places/offline/nearby_search.hpp"
#include "places/offline/offline_source.hpp"
#include "places/offline/place_index.hpp"

namespace {

using namespace herd::places::offline;

const PlaceIndex& index() {
  static const PlaceIndex places(HERD_PLACES_DATA);
  return places;
}

struct Centre {
  const char* name;
  Point point;
};

constexpr Centre kCentres[] = {
    {"tokyo", {35.68, 139.76}},
    {"delhi", {28.61, 77.21}},
    {"bandung", {-6.9, 107.6}},  // West Java: the densest square degree of the data
    {"milan", {45.46, 9.19}},
};

void Search(benchmark::State& state, Point centre, double radius) {
  std::size_t found = 0;
  for ([[maybe_unused]] auto _ : state) {
    const auto places = nearby_places(index(), centre, radius);
    found = places.size();
    benchmark::DoNotOptimize(places.data());
  }
  state.counters["places"] = static_cast<double>(found);
}

void Answer(benchmark::State& state, const herd::places::PlacesQuery& query) {
  const OfflinePlacesSource source{PlaceIndex(HERD_PLACES_DATA)};
  for ([[maybe_unused]] auto _ : state) benchmark::DoNotOptimize(source.answer(query));
}

// Registered from main rather than by a static initializer, whose exceptions nothing could
// catch.
void register_benchmarks() {
  for (const auto& centre : kCentres) {
    for (const double radius : {50'000.0, 1'000.0}) {
      const std::string name = std::string("Search/") + centre.name + "/" +
                               std::to_string(static_cast<int>(radius)) + "m";
      benchmark::RegisterBenchmark(name.c_str(), Search, centre.point, radius)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("Answer/tokyo/50000m", Answer,
                               herd::places::PlacesQuery{"35.68", "139.76", "50000"})
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

// BENCHMARK_MAIN's body, after the registration.
int main(int argc, char** argv) {
  register_benchmarks();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
