// Cuts a byte stream into protocol lines, with the 16 KiB limit of the contract.
//
// It holds at most one line's worth of bytes (kMaxLine + 1): the rest of an over-long line
// is discarded as it arrives, never buffered, so memory stays bounded whatever a peer sends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace herd::protocol {

struct Line {
  std::string text;       // without its terminator (`\n` or `\r\n`)
  bool overlong = false;  // text holds only the first kMaxLine bytes of a longer line

  friend bool operator==(const Line&, const Line&) = default;
};

class LineSplitter {
 public:
  static constexpr std::size_t kMaxLine = std::size_t{16} * 1024;

  // Appends every line completed by `bytes` to `out`. Empty and blank lines are emitted too;
  // skipping them is the caller's business (see is_blank). An over-long line is reported as
  // soon as it is known to be over-long, before its end arrives.
  void feed(std::string_view bytes, std::vector<Line>& out);

  // The end of the stream: a last line without `\n` is still a line.
  void finish(std::vector<Line>& out);

 private:
  std::string pending_;
  bool discarding_ = false;  // inside the tail of an over-long line already reported
};

}  // namespace herd::protocol
