#include "store/file_set.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <string>
#include <system_error>

#include "store/store_error.hpp"

namespace herd::store {
namespace {

namespace fs = std::filesystem;

// The siblings SQLite may leave beside a file, which belong to it alone: left beside a new
// file they would be taken as its own.
constexpr std::array<std::string_view, 3> kSiblings = {"-wal", "-shm", "-journal"};

}  // namespace

fs::path with_suffix(const fs::path& file, std::string_view suffix) {
  return fs::path(file.native() + std::string(suffix));
}

bool present(const fs::path& path) {
  std::error_code error;
  return fs::exists(fs::symlink_status(path, error));
}

void sync_directory(const fs::path& file) {
  const fs::path directory = file.has_parent_path() ? file.parent_path() : fs::path(".");
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

fs::path generation_file(const fs::path& anchor, std::uint64_t number) {
  return with_suffix(anchor, "." + std::to_string(number));
}

std::vector<std::uint64_t> generation_numbers(const fs::path& anchor) {
  const fs::path directory = anchor.has_parent_path() ? anchor.parent_path() : fs::path(".");
  const std::string prefix = anchor.filename().string() + ".";
  std::vector<std::uint64_t> numbers;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const char* begin = name.data() + prefix.size();
    const char* end = name.data() + name.size();
    std::uint64_t number = 0;
    const auto [stop, failed] = std::from_chars(begin, end, number);
    // Digits only, as generation_file() writes them: not "1-wal", "01" or "damaged-1".
    if (failed != std::errc() || stop != end || *begin == '0') continue;
    numbers.push_back(number);
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

bool remove_generation(const fs::path& file) {
  bool removed = true;
  std::error_code error;
  fs::remove(file, error);
  removed = removed && !error;
  for (const std::string_view sibling : kSiblings) {
    fs::remove(with_suffix(file, sibling), error);
    removed = removed && !error;
  }
  return removed;
}

Moves move_aside(const fs::path& anchor, bool with_anchor) {
  std::vector<std::string> suffixes;  // after the anchor's name: "" for itself
  if (with_anchor) suffixes.emplace_back();
  for (const std::uint64_t number : generation_numbers(anchor)) {
    suffixes.push_back("." + std::to_string(number));
  }
  fs::path target;
  for (unsigned n = 1;; ++n) {
    target = with_suffix(anchor, ".damaged-" + std::to_string(n));
    bool taken = false;
    for (const std::string& suffix : suffixes) {
      const fs::path name = with_suffix(target, suffix);
      taken = taken || present(name);
      for (const std::string_view sibling : kSiblings) {
        taken = taken || present(with_suffix(name, sibling));
      }
    }
    // Siblings of the anchor move even when the anchor itself does not.
    for (const std::string_view sibling : kSiblings) {
      taken = taken || present(with_suffix(target, sibling));
    }
    if (!taken) break;
  }
  Moves moves;
  const auto add = [&](const fs::path& from, const fs::path& to) {
    if (present(from)) moves.emplace_back(from, to);
  };
  if (!with_anchor) {
    for (const std::string_view sibling : kSiblings) {
      add(with_suffix(anchor, sibling), with_suffix(target, sibling));
    }
  }
  for (const std::string& suffix : suffixes) {
    add(with_suffix(anchor, suffix), with_suffix(target, suffix));
    for (const std::string_view sibling : kSiblings) {
      add(with_suffix(anchor, suffix + std::string(sibling)),
          with_suffix(target, suffix + std::string(sibling)));
    }
  }
  for (const auto& [from, to] : moves) {
    std::error_code error;
    fs::rename(from, to, error);
    if (error) {
      throw StoreError("cannot move " + from.string() + " aside to " + to.string() + ": " +
                       error.message());
    }
  }
  if (!moves.empty()) sync_directory(anchor);
  return moves;
}

}  // namespace herd::store
