// What the fuzz targets share: a check that stops the run on a broken invariant, a random
// source drawn from the input itself (so that a saved crash input replays exactly), and the
// way a connection hands bytes to the line splitter, in reads of any size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "protocol/line_splitter.hpp"
#include "protocol/record.hpp"
#include "protocol/timestamp.hpp"

namespace herd::fuzz {

// A broken invariant is a finding: name it, then abort so that libFuzzer keeps the input.
inline void require(bool holds, const char* invariant) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken: %s\n", invariant);
  std::abort();
}

// FNV-1a: any change to the input changes the choices drawn from it.
inline std::uint64_t hash_bytes(std::string_view bytes) {
  std::uint64_t hash = 0xcbf29ce484222325;
  for (const char c : bytes) {
    hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3;
  }
  return hash;
}

// splitmix64: small, and good enough to pick read sizes and clocks.
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}

  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }

  // Uniform enough in [0, bound); bound > 0.
  std::uint64_t below(std::uint64_t bound) { return next() % bound; }

 private:
  std::uint64_t state_;
};

// A server clock anywhere in the range a client time may take, the extremes included.
inline protocol::Timestamp random_clock(Random& random) {
  switch (random.below(4)) {
    case 0:
      return {0, 0};
    case 1:
      return {9'999'999'999, 999'999'999};
    default:
      return {static_cast<std::int64_t>(random.below(10'000'000'000)),
              static_cast<std::int32_t>(random.below(1'000'000'000))};
  }
}

// The lines of `stream` as a connection sees them: fed in reads of random sizes (small ones,
// ones larger than a whole line, and ones that end right after a `\r` or `\n`, where a
// terminator may be cut in two), then the end of the stream.
inline std::vector<protocol::Line> split_in_reads(std::string_view stream, Random& random) {
  protocol::LineSplitter splitter;
  std::vector<protocol::Line> lines;
  while (!stream.empty()) {
    std::size_t size = 0;
    switch (random.below(4)) {
      case 0:
        size = stream.find_first_of("\r\n") + 1;  // 0 when there is none: all of it
        break;
      case 1:
        size = static_cast<std::size_t>(1 + random.below(20'000));
        break;
      default:
        size = static_cast<std::size_t>(1 + random.below(16));
        break;
    }
    if (size == 0 || size > stream.size()) size = stream.size();
    splitter.feed(stream.substr(0, size), lines);
    stream.remove_prefix(size);
  }
  splitter.finish(lines);
  return lines;
}

inline bool same_record(const protocol::Record& a, const protocol::Record& b) {
  return a.client_id == b.client_id && a.location.latitude == b.location.latitude &&
         a.location.longitude == b.location.longitude && a.client_time == b.client_time &&
         a.at_line == b.at_line;
}

}  // namespace herd::fuzz
