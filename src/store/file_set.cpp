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

bool sync_file(const fs::path& file) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

void sync_directory(const fs::path& file) {
  sync_file(file.has_parent_path() ? file.parent_path() : fs::path("."));
}

fs::path generation_file(const fs::path& anchor, std::uint64_t number) {
  return with_suffix(anchor, "." + std::to_string(number));
}

std::vector<std::uint64_t> generation_numbers(const fs::path& anchor) {
  const fs::path directory = anchor.has_parent_path() ? anchor.parent_path() : fs::path(".");
  const std::string prefix = anchor.filename().string() + ".";
  std::vector<std::uint64_t> numbers;
  // A directory that cannot be read must not pass for one without generations: the store
  // would then be taken for damaged, and moved aside without them.
  std::error_code error;
  fs::directory_iterator it(directory, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const char* begin = name.data() + prefix.size();
    const char* end = name.data() + name.size();
    std::uint64_t number = 0;
    const auto [stop, failed] = std::from_chars(begin, end, number);
    // Digits only, as generation_file() writes them: not "1-wal", "01" or "damaged-1".
    if (failed != std::errc() || stop != end || *begin == '0') continue;
    numbers.push_back(number);
  }
  if (error) {
    throw StoreError("cannot list directory " + directory.string() + ": " + error.message());
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
  // Each name after the anchor's: its own, then each generation's, each with its siblings.
  std::vector<std::string> stems = {""};
  for (const std::uint64_t number : generation_numbers(anchor)) {
    stems.push_back("." + std::to_string(number));
  }
  std::vector<std::string> suffixes;
  for (const std::string& stem : stems) {
    suffixes.push_back(stem);
    for (const std::string_view sibling : kSiblings)
      suffixes.push_back(stem + std::string(sibling));
  }
  fs::path target;
  for (unsigned n = 1;; ++n) {
    target = with_suffix(anchor, ".damaged-" + std::to_string(n));
    if (std::none_of(suffixes.begin(), suffixes.end(), [&](const std::string& suffix) {
          return present(with_suffix(target, suffix));
        })) {
      break;
    }
  }
  Moves moves;
  for (const std::string& suffix : suffixes) {
    if (suffix.empty() && !with_anchor) continue;
    if (present(with_suffix(anchor, suffix))) {
      moves.emplace_back(with_suffix(anchor, suffix), with_suffix(target, suffix));
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
