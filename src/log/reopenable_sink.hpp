// The sink of a server's log: spdlog's rotating file, behind the one lock that every event
// takes once, and replaceable while other threads log (reopen, for logrotate).
//
// Replacing the file swaps it under that lock: no event is lost, each goes to one file or
// the other, and the new file formats as the old one did.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/sink.h>

namespace herd::log {

class ReopenableSink final : public spdlog::sinks::sink {
 public:
  // Unlocked: this sink's lock is the only one it needs.
  using File = spdlog::sinks::rotating_file_sink_st;

  explicit ReopenableSink(std::unique_ptr<File> file);

  // Events from now on go to `file`; the old one is flushed and closed.
  void replace(std::unique_ptr<File> file);

  void log(const spdlog::details::log_msg& message) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  std::mutex mutex_;
  std::unique_ptr<File> file_;
  std::unique_ptr<spdlog::formatter> formatter_;  // the file's, kept for the next one
};

}  // namespace herd::log
