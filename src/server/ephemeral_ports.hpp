// The host's ephemeral port range (net.ipv4.ip_local_port_range): the ports the kernel
// picks outgoing connections' source ports from.
//
// A server that listens on one of them can find it taken while it is down: a connection of
// this host that dialled it can connect to itself, and hold the port in TIME_WAIT for a
// minute (docs/protocol.md, "Links that drop"). A server warns at start when its port is
// in the range; its links reset such connections at once.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace herd::server {

struct PortRange {
  unsigned low = 0;
  unsigned high = 0;

  bool contains(unsigned port) const { return low <= port && port <= high; }
};

// The sysctl file's text, two port numbers ("32768\t60999\n"); nullopt for anything else.
std::optional<PortRange> parse_port_range(std::string_view text);

// Read from `file`; nullopt where it cannot be read or parsed (no /proc, not Linux).
std::optional<PortRange> read_port_range(
    const std::filesystem::path& file = "/proc/sys/net/ipv4/ip_local_port_range");

}  // namespace herd::server
