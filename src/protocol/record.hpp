// A record: the AT line a server made for a client's IAMAT, and the rule that decides which
// of two records for the same client is newer.
//
// Every server applies the same total order, so the herd settles on one record per client
// whatever order the floods arrive in.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "protocol/location.hpp"
#include "protocol/timestamp.hpp"

namespace herd::protocol {

struct Record {
  std::string client_id;
  Location location;
  Timestamp client_time;
  std::string at_line;  // "AT Clark +0.263873386 kiwi +34.06-118.44 1621464827.959498503"
};

// What the newer-record rule reads of a record, for a holder that keeps records in a form
// of its own (store/packed_record.hpp).
struct Version {
  Timestamp client_time;
  std::string_view at_line;
};
inline Version version_of(const Record& record) {
  return {record.client_time, record.at_line};
}

// Newer means a greater client time; on equal times, the AT line that sorts greater bytewise.
bool is_newer(Version candidate, Version current);
inline bool is_newer(const Record& candidate, const Record& current) {
  return is_newer(version_of(candidate), version_of(current));
}

// True when a record of client time `client_time` was made more than `ttl` before `now`:
// the herd then forgets it. Every server decides this from the client's own time, so they
// all agree (give or take their clocks). A zero `ttl` means records never age out.
bool has_aged_out(Timestamp client_time, Timestamp now, std::chrono::seconds ttl);
inline bool has_aged_out(const Record& record, Timestamp now, std::chrono::seconds ttl) {
  return has_aged_out(record.client_time, now, ttl);
}

}  // namespace herd::protocol
