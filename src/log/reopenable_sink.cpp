#include "log/reopenable_sink.hpp"

#include <utility>

#include <spdlog/pattern_formatter.h>

namespace herd::log {

ReopenableSink::ReopenableSink(std::unique_ptr<File> file)
    : file_(std::move(file)), formatter_(std::make_unique<spdlog::pattern_formatter>()) {}

void ReopenableSink::replace(std::unique_ptr<File> file) {
  {
    const std::lock_guard lock(mutex_);
    file->set_formatter(formatter_->clone());
    file_.swap(file);
  }
  file->flush();  // the old file, closed as it goes, outside the lock
}

void ReopenableSink::log(const spdlog::details::log_msg& message) {
  const std::lock_guard lock(mutex_);
  file_->log(message);
}

void ReopenableSink::flush() {
  const std::lock_guard lock(mutex_);
  file_->flush();
}

void ReopenableSink::set_pattern(const std::string& pattern) {
  set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
}

void ReopenableSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  const std::lock_guard lock(mutex_);
  file_->set_formatter(formatter->clone());
  formatter_ = std::move(formatter);
}

}  // namespace herd::log
