// The records a server holds: for every client, the newest AT line it has seen.
//
// offer() applies the newer-record rule atomically, so concurrent IAMATs and floods for the
// same client, from any thread, settle on the record every other server settles on too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "protocol/record.hpp"

namespace herd::store {

class RecordStore {
 public:
  enum class Outcome {
    kStored,    // new or newer: flood it on
    kNotNewer,  // changed nothing
    kFull,      // a new client, but the store already holds `capacity` clients
  };

  explicit RecordStore(std::size_t capacity = SIZE_MAX) : capacity_(capacity) {}

  // Stores `record` if it is newer than the one held for its client (or there is none and
  // there is room). Only a record that changed something is flooded on.
  Outcome offer(const protocol::Record& record);

  // A copy, so that the caller may use it after other threads have replaced it.
  std::optional<protocol::Record> find(std::string_view client_id) const;

  std::size_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, protocol::Record, Hash, std::equal_to<>> records_;
};

}  // namespace herd::store
