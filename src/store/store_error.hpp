// A data file that cannot be used or written, in words for the log that name the file.
#pragma once

#include <stdexcept>

namespace herd::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace herd::store
