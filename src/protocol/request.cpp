#include "protocol/request.hpp"

#include "protocol/fields.hpp"
#include "protocol/radius.hpp"

namespace herd::protocol {

namespace {

Request parse_iamat(const std::vector<std::string_view>& fields) {
  if (fields.size() != 4) return Invalid{};
  auto location = parse_location(fields[2]);
  auto time = parse_client_time(fields[3]);
  if (!location || !time) return Invalid{};
  return IamAt{std::string(fields[1]), std::move(*location), std::string(fields[2]), *time,
               std::string(fields[3])};
}

Request parse_whatsat(const std::vector<std::string_view>& fields) {
  if (fields.size() != 4) return Invalid{};
  auto metres = parse_radius_metres(fields[2]);
  auto bound = parse_bound(fields[3]);
  if (!metres || !bound) return Invalid{};
  return WhatsAt{std::string(fields[1]), std::move(*metres), *bound};
}

Request parse_at(const std::vector<std::string_view>& fields) {
  if (fields.size() != 6 || !is_time_difference(fields[2])) return Invalid{};
  auto location = parse_location(fields[4]);
  auto time = parse_client_time(fields[5]);
  if (!location || !time) return Invalid{};
  // Re-joined with single spaces: a well-formed AT line comes out byte for byte, and any
  // other spacing settles on one canonical form for the bytewise tie-break. It is no longer
  // than the line from its first field to its last.
  std::string at_line;
  at_line.reserve(fields.back().end() - fields.front().begin());
  for (const auto field : fields) {
    if (!at_line.empty()) at_line += ' ';
    at_line += field;
  }
  return At{Record{std::string(fields[3]), std::move(*location), *time, std::move(at_line)}};
}

}  // namespace

bool is_nonce(std::string_view text) {
  return is_lower_hex(text, 32);
}
bool is_proof(std::string_view text) {
  return is_lower_hex(text, 64);
}

Request parse_request(std::string_view line) {
  const auto fields = split_fields(line);
  if (fields.empty()) return Invalid{};
  const std::string_view command = fields[0];
  if (command == "IAMAT") return parse_iamat(fields);
  if (command == "WHATSAT") return parse_whatsat(fields);
  if (command == "AT") return parse_at(fields);
  if (command == "HERD" && fields.size() == 2) return Hello{std::string(fields[1]), {}};
  if (command == "HERD" && fields.size() == 3 && is_nonce(fields[2])) {
    return Hello{std::string(fields[1]), std::string(fields[2])};
  }
  if (command == "PROOF" && fields.size() == 2 && is_proof(fields[1])) {
    return Proof{std::string(fields[1])};
  }
  if (command == "MARK" && fields.size() == 3) {
    if (auto position = parse_position(fields[1], fields[2])) return Mark{std::move(*position)};
  }
  return Invalid{};
}

bool is_blank(std::string_view line) {
  for (const char c : line) {
    if (!is_space(c)) return false;
  }
  return true;
}

std::optional<Challenge> parse_challenge(std::string_view line) {
  const auto fields = split_fields(line);
  if (fields.size() != 3 || fields[0] != "CHALLENGE" || !is_nonce(fields[1]) ||
      !is_proof(fields[2])) {
    return std::nullopt;
  }
  return Challenge{std::string(fields[1]), std::string(fields[2])};
}

}  // namespace herd::protocol
