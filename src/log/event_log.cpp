#include "log/event_log.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>
#include <utility>

#include <spdlog/logger.h>

#include "log/reopenable_sink.hpp"
#include "text/printable.hpp"

namespace herd::log {

namespace {

// The level word is written by us rather than by spdlog's `%l`, whose names are lower case
// and fixed at spdlog's build time.
constexpr std::string_view kInfo = "INFO ";
constexpr std::string_view kWarning = "WARN ";
// What append_cut adds to a line it cuts, " ... (N bytes)", at most.
constexpr std::size_t kCutNoteBytes = 32;

// A hostile line must not be able to forge log lines or move a terminal's cursor.
using text::append_printable;
using text::printable;

// Opens (creating the directory if needed) `<dir>/<server>.log`, appending.
std::unique_ptr<ReopenableSink::File> open_file(const config::LogConfig& config,
                                                const std::string& server) {
  const std::filesystem::path dir(config.dir);
  const std::filesystem::path file = dir / (server + ".log");
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw config::ConfigError("log.dir: cannot create \"" + printable(config.dir) +
                              "\": " + error.message());
  }
  try {
    return std::make_unique<ReopenableSink::File>(file.string(), config.max_bytes,
                                                  config.max_files);
  } catch (const spdlog::spdlog_ex& e) {
    throw config::ConfigError("log.dir: cannot open the log of " + printable(server) + ": " +
                              printable(e.what()));
  }
}

}  // namespace

EventLog::EventLog(const config::LogConfig& config, std::string_view server)
    : config_(config),
      server_(server),
      max_line_(config.max_line),
      sink_(std::make_shared<ReopenableSink>(open_file(config_, server_))),
      // Not registered with spdlog: each server owns its log and no global state is shared.
      logger_(std::make_shared<spdlog::logger>(server_, sink_)) {
  logger_->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %v", spdlog::pattern_time_type::utc);
  logger_->set_level(spdlog::level::trace);
  // Flushed by write(), each event or after a turn of the event loop (defer_flushes).
  logger_->flush_on(spdlog::level::off);
}

void EventLog::reopen() {
  try {
    sink_->replace(open_file(config_, server_));
  } catch (const config::ConfigError& e) {
    failure(std::string("cannot reopen the log: ") + e.what() + "; keeping the old file");
    return;
  }
  event("log reopened");
}

EventLog::~EventLog() {
  logger_->flush();
}

void EventLog::received(std::string_view peer, std::string_view line) {
  exchange(peer, " < ", line);
}

void EventLog::sent(std::string_view peer, std::string_view text) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  exchange(peer, " > ", text);
}

void EventLog::exchange(std::string_view peer, std::string_view direction, std::string_view text) {
  // Two of these a request: one buffer, sized once, and no copy made on the way.
  std::string message;
  message.reserve(kInfo.size() + peer.size() + direction.size() + std::min(text.size(), max_line_) +
                  kCutNoteBytes);
  message += kInfo;
  append_printable(message, peer);
  message += direction;
  append_cut(message, text);
  write(spdlog::level::info, message);
}

void EventLog::event(std::string_view text) {
  std::string message(kInfo);
  append_cut(message, text);
  write(spdlog::level::info, message);
}

void EventLog::failure(std::string_view text) {
  std::string message(kWarning);
  append_cut(message, text);
  write(spdlog::level::warn, message);
}

void EventLog::write(spdlog::level::level_enum level, const std::string& message) {
  logger_->log(level, message);
  // A warning is rare and wanted at once: it is written with everything before it.
  if (deferred_flush_ && level < spdlog::level::warn) return deferred_flush_->request();
  logger_->flush();
}

void EventLog::flush() {
  logger_->flush();
}

void EventLog::defer_flushes(loop::Post post) {
  deferred_flush_ = std::make_unique<loop::AfterTurn>(std::move(post), [this] { flush(); });
}

void EventLog::append_cut(std::string& out, std::string_view text) const {
  if (text.size() <= max_line_) return append_printable(out, text);
  append_printable(out, text.substr(0, max_line_));
  out += " ... (" + std::to_string(text.size()) + " bytes)";
}

std::string redact_url(std::string_view url) {
  const auto query = url.find('?');
  if (query == std::string_view::npos) return std::string(url);
  const auto fragment = url.find('#', query);
  const auto end = fragment == std::string_view::npos ? url.size() : fragment;

  std::string out(url.substr(0, query + 1));
  auto start = query + 1;
  while (start <= end) {
    auto stop = url.find('&', start);
    if (stop == std::string_view::npos || stop > end) stop = end;
    const std::string_view parameter = url.substr(start, stop - start);
    if (parameter.starts_with("key=")) {
      out += "key=REDACTED";
    } else {
      out += parameter;
    }
    if (stop == end) break;
    out += '&';
    start = stop + 1;
  }
  out += url.substr(end);
  return out;
}

}  // namespace herd::log
