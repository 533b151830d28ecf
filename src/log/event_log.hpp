// A server's log: one file per server, one event a line, each with a UTC timestamp.
//
// It records every line received and sent, every connection opened and closed, and every
// retry and failure of a neighbour link or of the places source. Files rotate by size so
// that a log cannot fill a disk; a line longer than the configured maximum is cut and its
// full length noted. Safe to use from several threads.
//
// Each event is flushed to the file at once, unless flushes are deferred to an event loop
// (defer_flushes): then one write carries every event of a busy moment, and an event of
// an idle one still reaches the file within the loop's next turn. Failures (warnings) are
// always flushed at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "loop/after_turn.hpp"

namespace spdlog {
class logger;
namespace level {
enum level_enum : int;
}
}  // namespace spdlog

namespace herd::log {

class ReopenableSink;

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
  void event(std::string_view text);                        // opened, closed, retry, ...
  void failure(std::string_view text);                      // logged at warning level

  void flush();

  // From now on events other than failures are flushed once per turn of the loop `post`
  // queues work on, instead of each event flushing itself. Called before any other thread logs; the
  // loop must not run after the log is gone.
  void defer_flushes(loop::Post post);

  // Opens the file again (for logrotate, on SIGHUP): events after this go to a file at the
  // configured path, whatever became of the old one. On failure the old file is kept.
  void reopen();

 private:
  // A line received from or sent to a peer: "INFO <peer><direction><text>", the text cut.
  void exchange(std::string_view peer, std::string_view direction, std::string_view text);
  // Appends `text` made printable, cut to the configured maximum with a note of its size.
  void append_cut(std::string& out, std::string_view text) const;
  void write(spdlog::level::level_enum level, const std::string& message);

  config::LogConfig config_;
  std::string server_;
  std::size_t max_line_;
  // reopen() replaces the file inside the sink, never the logger, so an event takes the
  // sink's lock alone: with a data file's threads every lock is an atomic instruction,
  // and an IAMAT logs two events (docs/durability-costs.md).
  std::shared_ptr<ReopenableSink> sink_;
  std::shared_ptr<spdlog::logger> logger_;
  std::unique_ptr<loop::AfterTurn> deferred_flush_;  // null: each event flushes itself
};

// Replaces the value of every `key=` query parameter in a URL by `REDACTED`, so that an API
// key never reaches a log or a message.
std::string redact_url(std::string_view url);

}  // namespace herd::log
