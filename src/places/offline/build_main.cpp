// herd-places-build: turns GeoNames' cities500.txt into the offline places file.
//   herd-places-build <cities500.txt> <places.dat>
// The file is written beside its final name and renamed into place, so a failed build never
// leaves a partial file that the server would map.
#include <cerrno>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <system_error>

#include "places/offline/place_file_builder.hpp"
#include "places/offline/place_index.hpp"

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const std::string why = std::system_category().message(errno);
    throw std::runtime_error("cannot read " + path.string() + ": " + why +
                             "; run scripts/fetch-places-data first");
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& path, const std::string& bytes) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  const fs::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) throw std::runtime_error("cannot write " + partial.string());
  }
  fs::rename(partial, path);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: herd-places-build <cities500.txt> <places.dat>\n";
    return 2;
  }
  const fs::path text_file = argv[1];
  const fs::path data_file = argv[2];
  try {
    const std::string text = read_text(text_file);
    std::string bytes;
    try {
      bytes = herd::places::offline::build_place_file(text);
    } catch (const std::runtime_error& error) {
      throw std::runtime_error(text_file.string() + ": " + error.what());
    }
    write_file(data_file, bytes);
    const herd::places::offline::PlaceIndex index(data_file);  // as the server will open it
    std::cout << "herd-places-build: " << index.records().size() << " places into "
              << data_file.string() << "\n";
  } catch (const std::exception& error) {
    std::cerr << "herd-places-build: " << error.what() << "\n";
    return 1;
  }
  return 0;
}
