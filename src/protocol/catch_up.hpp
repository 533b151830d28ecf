// The two lines of catch-up between neighbours (docs/catch-up.md).
//
// Every server numbers the records it stores with log sequence numbers (LSNs) that only
// grow, within a store identified by a random id. On a link, the receiving side says how
// far it got (`SINCE`), and the sending side marks how far it has sent (`MARK`):
//
//     SINCE <store id | -> <lsn>    receiver -> sender, once, when the link comes up
//     MARK <store id> <lsn>         sender -> receiver, after each batch of records
//
// Pure: parsing and formatting only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace herd::protocol {

// How far a receiver has got in a sender's store: every record the sender had with an LSN
// up to `lsn` has reached it. An empty store id means "nothing of yours yet".
struct StorePosition {
  std::string store_id;  // 16 lower-case hex digits, or empty
  std::uint64_t lsn = 0;

  friend bool operator==(const StorePosition&, const StorePosition&) = default;
};

bool is_store_id(std::string_view text);

// `SINCE <id> <lsn>\n`, `SINCE - 0\n` for an empty position.
std::string since_line(const StorePosition& position);
// `MARK <id> <lsn>\n`
std::string mark_line(const StorePosition& position);

std::optional<StorePosition> parse_since(std::string_view line);

// The two fields of a position as MARK carries them; a store id is required.
std::optional<StorePosition> parse_position(std::string_view store_id, std::string_view lsn);

}  // namespace herd::protocol
