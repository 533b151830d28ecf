#include "protocol/record.hpp"

namespace herd::protocol {

bool is_newer(Version candidate, Version current) {
  if (candidate.client_time != current.client_time) {
    return candidate.client_time > current.client_time;
  }
  // std::char_traits<char> compares as unsigned char, so this is a bytewise order on every
  // platform, whatever the signedness of char.
  return candidate.at_line.compare(current.at_line) > 0;
}

bool has_aged_out(Timestamp client_time, Timestamp now, std::chrono::seconds ttl) {
  if (ttl.count() <= 0) return false;
  const Timestamp last_day{client_time.seconds + ttl.count(), client_time.nanoseconds};
  return now > last_day;
}

}  // namespace herd::protocol
