// The files of a store on disk, by name: the anchor `<name>.db`, its generations
// `<name>.db.<N>` (generation.hpp), and the siblings SQLite keeps beside each (`-wal`,
// `-shm`, `-journal`). A damaged store is moved aside as a set, never deleted, so that the
// operator finds it whole: `<name>.db.damaged-<K>` and `<name>.db.damaged-<K>.<N>`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <utility>
#include <vector>

namespace herd::store {

std::filesystem::path with_suffix(const std::filesystem::path& file, std::string_view suffix);

// Whether anything, a dangling symlink included, has the name.
bool present(const std::filesystem::path& path);

// Syncs a file to disk; false if it could not be opened or synced.
bool sync_file(const std::filesystem::path& file);

// SQLite syncs the directory when it creates its journals but not the database file itself,
// and a rename or a deletion is durable only once its directory is. Best effort: there is
// nothing to do on failure.
void sync_directory(const std::filesystem::path& file);

std::filesystem::path generation_file(const std::filesystem::path& anchor, std::uint64_t number);

// The numbers of the generation files beside `anchor`, in order. Throws StoreError if the
// directory cannot be read.
std::vector<std::uint64_t> generation_numbers(const std::filesystem::path& anchor);

// Deletes a generation's file and its siblings, which must not be in use by SQLite but
// may still be open. Returns false if one could not be deleted.
bool remove_generation(const std::filesystem::path& file);

using Moves = std::vector<std::pair<std::filesystem::path, std::filesystem::path>>;

// Renames the anchor (unless `with_anchor` is false), every generation file beside it, and
// their siblings, those that exist, to the same names with `.damaged-<K>` after the
// anchor's name, K the smallest number with none of those names taken. Throws StoreError.
Moves move_aside(const std::filesystem::path& anchor, bool with_anchor);

}  // namespace herd::store
