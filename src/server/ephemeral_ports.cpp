#include "server/ephemeral_ports.hpp"

#include <charconv>
#include <fstream>
#include <iterator>
#include <string>

namespace herd::server {

namespace {

constexpr unsigned kMaxPort = 65535;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n';
}

// Takes a port number, after any blanks, off the front of `text`.
std::optional<unsigned> take_port(std::string_view& text) {
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end == text.data() || port > kMaxPort) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return port;
}

}  // namespace

std::optional<PortRange> parse_port_range(std::string_view text) {
  const auto low = take_port(text);
  if (!low || text.empty() || !is_blank(text.front())) return std::nullopt;
  const auto high = take_port(text);
  if (!high || *high < *low) return std::nullopt;
  while (!text.empty() && is_blank(text.front())) text.remove_prefix(1);
  if (!text.empty()) return std::nullopt;
  return PortRange{*low, *high};
}

std::optional<PortRange> read_port_range(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_port_range(text);
}

}  // namespace herd::server
