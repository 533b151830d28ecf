#include "server/ephemeral_ports.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "protocol/fields.hpp"

namespace herd::server {

namespace {

constexpr unsigned kMaxPort = 65535;

// Plain decimal digits and nothing else.
std::optional<unsigned> parse_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port > kMaxPort) {
    return std::nullopt;
  }
  return port;
}

}  // namespace

std::optional<PortRange> parse_port_range(std::string_view text) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  const std::vector<std::string_view> fields = protocol::split_fields(text);
  if (fields.size() != 2) return std::nullopt;
  const auto low = parse_port(fields[0]);
  const auto high = parse_port(fields[1]);
  if (!low || !high || *high < *low) return std::nullopt;
  return PortRange{*low, *high};
}

std::optional<PortRange> read_port_range(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_port_range(text);
}

}  // namespace herd::server
