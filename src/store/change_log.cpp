#include "store/change_log.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace herd::store {

namespace {

void append_number(std::uint64_t number, std::string& out) {
  std::array<char, 24> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), number).ptr;
  out.append(digits.data(), end);
}

// One line, sized first and copied in place: this runs under the store's lock for every
// record stored, where eight appends each checking the capacity showed up in profiles.
void put_line(std::uint64_t lsn, std::string_view client, std::string_view source,
              std::string_view at_line, std::string& out) {
  std::array<char, 24> digits{};
  const std::size_t digit_count = static_cast<std::size_t>(
      std::to_chars(digits.data(), digits.data() + digits.size(), lsn).ptr - digits.data());
  const std::size_t start = out.size();
  out.resize(start + 2 + digit_count + 1 + client.size() + 2 + source.size() + 1 + at_line.size() +
             1);
  char* at = out.data() + start;
  // std::copy, not memcpy: an empty view (no source) may have no data pointer at all.
  const auto put = [&at](std::string_view piece) {
    at = std::copy(piece.begin(), piece.end(), at);
  };
  put("P ");
  put({digits.data(), digit_count});
  put(" ");
  put(client);
  put(" @");
  put(source);
  put(" ");
  put(at_line);
  put("\n");
}

// Takes the next space-separated field off the front of `rest`.
std::string_view next_field(std::string_view& rest) {
  const auto space = rest.find(' ');
  const std::string_view field = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return field;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

}  // namespace

ChangeBatch::ChangeBatch(std::initializer_list<Change> changes) {
  for (const auto& change : changes) add(change);
}

void ChangeBatch::add(const Change& change) {
  switch (change.kind) {
    case Change::Kind::kPut:
      put_line(change.lsn, change.key, change.source, change.value, record_lines_);
      break;
    case Change::Kind::kErase:
      record_lines_ += "E ";
      append_number(change.seq, record_lines_);
      record_lines_ += ' ';
      record_lines_ += change.key;
      record_lines_ += '\n';
      break;
    case Change::Kind::kCursor:
      cursors_.push_back(
          StoredCursor{std::string(change.key), std::string(change.value), change.lsn});
      break;
  }
  ++size_;
  last_seq_ = std::max(last_seq_, change.seq);
}

void ChangeBatch::append(const ChangeBatch& later) {
  record_lines_ += later.record_lines_;
  cursors_.insert(cursors_.end(), later.cursors_.begin(), later.cursors_.end());
  size_ += later.size_;
  last_seq_ = std::max(last_seq_, later.last_seq_);
}

void ChangeBatch::clear() {
  record_lines_.clear();
  cursors_.clear();
  size_ = 0;
  last_seq_ = 0;
}

void encode_records(std::span<const StoredRecord> records, std::string& out) {
  for (const auto& record : records) {
    put_line(record.lsn, record.client, record.source, record.at_line, out);
  }
}

std::size_t ChangeFold::add(std::string_view row) {
  std::string_view rest = rows_.emplace_back(row);
  std::size_t unreadable = 0;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    if (!add_line(rest.substr(0, end))) ++unreadable;
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  }
  return unreadable;
}

bool ChangeFold::add_line(std::string_view line) {
  std::string_view rest = line;
  const std::string_view kind = next_field(rest);
  std::uint64_t seq = 0;
  if (!parse_number(next_field(rest), seq)) return false;
  const std::string_view client = next_field(rest);
  if (client.empty()) return false;
  Latest change;
  change.seq = seq;
  if (kind == "E") {
    if (!rest.empty()) return false;
    change.erased = true;
  } else if (kind == "P") {
    const std::string_view source = next_field(rest);
    if (!source.starts_with('@') || rest.empty()) return false;
    change.source = source.substr(1);
    change.at_line = rest;
  } else {
    return false;
  }
  auto [it, inserted] = latest_.try_emplace(client, change);
  if (!inserted && it->second.seq < seq) it->second = change;
  return true;
}

std::vector<StoredRecord> ChangeFold::records() && {
  // Sorted by their LSN alone, inline, rather than through pointers to the entries: a
  // comparison that reached into the table would miss the cache at every step.
  std::vector<std::pair<std::uint64_t, const Table::value_type*>> puts;
  puts.reserve(latest_.size());
  for (const auto& entry : latest_) {
    if (!entry.second.erased) puts.emplace_back(entry.second.seq, &entry);
  }
  std::sort(puts.begin(), puts.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<StoredRecord> records;
  records.reserve(puts.size());
  for (const auto& [lsn, entry] : puts) {
    records.push_back(StoredRecord{std::string(entry->first), std::string(entry->second.at_line),
                                   lsn, std::string(entry->second.source)});
  }
  latest_.clear();
  rows_.clear();
  return records;
}

}  // namespace herd::store
