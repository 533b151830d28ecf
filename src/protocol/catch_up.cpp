#include "protocol/catch_up.hpp"

#include <charconv>

#include "protocol/fields.hpp"

namespace herd::protocol {

namespace {

std::optional<std::uint64_t> parse_lsn(std::string_view text) {
  // Plain decimal digits only: no sign, no spaces, nothing after.
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text[0] == '+') {
    return std::nullopt;
  }
  return value;
}

std::string position_line(std::string_view command, const StorePosition& position) {
  std::string line(command);
  line += ' ';
  line += position.store_id.empty() ? std::string("-") : position.store_id;
  line += ' ';
  line += std::to_string(position.lsn);
  line += '\n';
  return line;
}

}  // namespace

bool is_store_id(std::string_view text) {
  return is_lower_hex(text, 16);
}

std::string since_line(const StorePosition& position) {
  return position_line("SINCE", position);
}

std::string mark_line(const StorePosition& position) {
  return position_line("MARK", position);
}

std::optional<StorePosition> parse_since(std::string_view line) {
  const auto fields = split_fields(line);
  if (fields.size() != 3 || fields[0] != "SINCE") return std::nullopt;
  auto lsn = parse_lsn(fields[2]);
  if (!lsn) return std::nullopt;
  if (fields[1] == "-") {
    if (*lsn != 0) return std::nullopt;
    return StorePosition{};
  }
  return parse_position(fields[1], fields[2]);
}

std::optional<StorePosition> parse_position(std::string_view store_id, std::string_view lsn) {
  auto value = parse_lsn(lsn);
  if (!value || !is_store_id(store_id)) return std::nullopt;
  return StorePosition{std::string(store_id), *value};
}

}  // namespace herd::protocol
