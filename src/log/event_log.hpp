// A server's log: one file per server, one event a line, each with a UTC timestamp.
//
// It records every line received and sent, every connection opened and closed, and every
// retry and failure of a neighbour link or of the places source. Files rotate by size so
// that a log cannot fill a disk; a line longer than the configured maximum is cut and its
// full length noted. Safe to use from several threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace spdlog {
class logger;
}

namespace herd::log {

class EventLog {
 public:
  // Opens (creating the directory if needed) `<dir>/<server>.log`, appending.
  EventLog(const config::LogConfig& config, std::string_view server);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  // `peer` says who is at the other end: "client 7 127.0.0.1:50312", "neighbour Clark".
  void received(std::string_view peer, std::string_view line);
  void sent(std::string_view peer, std::string_view text);  // trailing newline(s) not logged
  void event(std::string_view text);                         // opened, closed, retry, ...
  void failure(std::string_view text);                       // logged at warning level

  void flush();

 private:
  std::string cut(std::string_view text) const;

  std::size_t max_line_;
  std::shared_ptr<spdlog::logger> logger_;
};

// Replaces the value of every `key=` query parameter in a URL by `REDACTED`, so that an API
// key never reaches a log or a message.
std::string redact_url(std::string_view url);

}  // namespace herd::log
