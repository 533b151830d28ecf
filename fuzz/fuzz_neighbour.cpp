// Fuzz target: the neighbour side of a link. The bytes are what a dialling neighbour sends
// (`HERD name [nonce]`, `PROOF mac`, then AT lines) or what the accepting side answers
// (`CHALLENGE nonce mac`). Every handshake line and every AT line must come back unchanged
// from the line the herd itself would write for it, and the newer-record rule must be a
// strict order on every pair of records the input yields: the herd's agreement on one
// record per client rests on it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_support.hpp"
#include "protocol/line_splitter.hpp"
#include "protocol/record.hpp"
#include "protocol/reply.hpp"
#include "protocol/request.hpp"

namespace {

using herd::fuzz::require;
using herd::fuzz::same_record;
using namespace herd::protocol;

// Enough for every pair and triple to stay cheap.
constexpr std::size_t kMaxRecords = 24;

std::string without_newline(std::string line) {
  require(!line.empty() && line.back() == '\n', "a line the herd writes ends with a newline");
  line.pop_back();
  return line;
}

void check_hello(const Hello& hello) {
  const Request again = parse_request(without_newline(hello_line(hello.server_name, hello.nonce)));
  const auto* same = std::get_if<Hello>(&again);
  require(same != nullptr && same->server_name == hello.server_name && same->nonce == hello.nonce,
          "a HERD line re-parses to the same hello");
  require(hello.nonce.empty() || is_nonce(hello.nonce), "a nonce has its form");
}

void check_challenge(std::string_view line) {
  const std::optional<Challenge> challenge = parse_challenge(line);
  if (!challenge) return;
  require(is_nonce(challenge->nonce) && is_proof(challenge->mac), "a challenge has its form");
  const auto again = parse_challenge("CHALLENGE " + challenge->nonce + " " + challenge->mac);
  require(again && again->nonce == challenge->nonce && again->mac == challenge->mac,
          "a CHALLENGE line re-parses to the same challenge");
}

// The record an AT line carries, once it is known to come back unchanged from the line a
// server floods for it.
Record record_of(const At& at) {
  const Request again = parse_request(without_newline(at_reply(at.record)));
  const auto* same = std::get_if<At>(&again);
  require(same != nullptr && same_record(same->record, at.record),
          "an AT line re-parses to its record");
  return at.record;
}

void check_order(const std::vector<Record>& records) {
  for (const Record& a : records) {
    require(!is_newer(a, a), "newer is irreflexive");
    for (const Record& b : records) {
      const bool a_newer = is_newer(a, b);
      const bool b_newer = is_newer(b, a);
      require(!(a_newer && b_newer), "newer is asymmetric");
      // Two different AT lines are never tied, or servers could settle on different ones.
      require(a_newer || b_newer || a.at_line == b.at_line, "different records are ordered");
      require(a.at_line != b.at_line || a.client_time == b.client_time,
              "one AT line, one client time");
      if (!a_newer) continue;
      for (const Record& c : records) {
        require(!is_newer(b, c) || is_newer(a, c), "newer is transitive");
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  herd::fuzz::Random random(herd::fuzz::hash_bytes(input));
  const Timestamp received = herd::fuzz::random_clock(random);

  std::vector<Record> records;
  for (const Line& line : herd::fuzz::split_in_reads(input, random)) {
    if (is_blank(line.text)) continue;
    check_challenge(line.text);
    const Request request = parse_request(line.text);
    if (const auto* hello = std::get_if<Hello>(&request)) {
      check_hello(*hello);
    } else if (const auto* proof = std::get_if<Proof>(&request)) {
      require(is_proof(proof->mac), "a proof has its form");
    } else if (const auto* at = std::get_if<At>(&request)) {
      if (records.size() < kMaxRecords) records.push_back(record_of(*at));
    } else if (const auto* iamat = std::get_if<IamAt>(&request)) {
      // The record a server makes for an IAMAT is the one it floods: in the order too.
      if (records.size() < kMaxRecords) records.push_back(make_record("Clark", received, *iamat));
    }
  }
  check_order(records);
  return 0;
}
