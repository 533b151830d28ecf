#include "protocol/line_splitter.hpp"

#include <algorithm>

namespace herd::protocol {

namespace {

void emit(std::string& pending, std::vector<Line>& out) {
  if (pending.size() > LineSplitter::kMaxLine) {
    out.push_back(Line{pending.substr(0, LineSplitter::kMaxLine), true});
  } else {
    out.push_back(Line{pending, false});
  }
  pending.clear();
}

}  // namespace

void LineSplitter::feed(std::string_view bytes, std::vector<Line>& out) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::size_t newline = bytes.find('\n', i);
    if (discarding_) {
      if (newline == std::string_view::npos) return;
      discarding_ = false;
      i = newline + 1;
      continue;
    }
    const std::size_t end = newline == std::string_view::npos ? bytes.size() : newline;
    // kMaxLine + 1 bytes are kept so that a line of exactly kMaxLine bytes ended by "\r\n"
    // split between two reads is still told apart from an over-long one.
    const std::size_t room = kMaxLine + 1 - pending_.size();
    const std::size_t take = std::min(room, end - i);
    pending_.append(bytes.substr(i, take));
    i += take;
    if (i == end && newline != std::string_view::npos) {
      if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
      emit(pending_, out);
      i = newline + 1;
      continue;
    }
    // No terminator yet. With kMaxLine + 1 bytes held, the line is over-long unless the last
    // of them is a '\r' that the next byte may turn into the terminator.
    const bool more_before_end = i < end;
    if (pending_.size() > kMaxLine && (more_before_end || pending_.back() != '\r')) {
      emit(pending_, out);
      discarding_ = true;
    }
  }
}

void LineSplitter::finish(std::vector<Line>& out) {
  // A '\r' at the very end is not followed by '\n', so it is part of the line.
  if (!discarding_ && !pending_.empty()) emit(pending_, out);
  pending_.clear();
  discarding_ = false;
}

}  // namespace herd::protocol
