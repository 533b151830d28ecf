// A TCP connection of this host that met itself.
//
// Dialling a port of this host's ephemeral range (net.ipv4.ip_local_port_range) where
// nothing listens can land on the dialler itself: the kernel picks that very port as the
// source, and TCP's simultaneous open joins the two ends. Closed the usual way, such a
// connection holds the port in TIME_WAIT for a minute, so that whatever should listen
// there (a neighbour, a local places service) cannot bind it when it starts; reset, it
// leaves nothing behind. Every connection the server dials is checked: neighbour links
// and the places HTTP client.
#pragma once

#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/system/error_code.hpp>

namespace herd::net {

// What a dialler says of such a connection, after saying where it dialled.
inline constexpr std::string_view kWhyItself =
    "as nothing listens there and the port is in this host's ephemeral range "
    "(net.ipv4.ip_local_port_range); reset";

inline bool connected_to_itself(const boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code local_error;
  boost::system::error_code remote_error;
  const auto local = socket.local_endpoint(local_error);
  const auto remote = socket.remote_endpoint(remote_error);
  return !local_error && !remote_error && local == remote;
}

// Closes `socket` with a reset (linger 0), which leaves no TIME_WAIT behind.
inline void reset(boost::asio::ip::tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  socket.close(ignored);
}

}  // namespace herd::net
