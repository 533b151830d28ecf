#include "server/ephemeral_ports.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace herd::server {
namespace {

TEST(EphemeralPorts, ParsesTheSysctlFile) {
  const auto range = parse_port_range("32768\t60999\n");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->low, 32768u);
  EXPECT_EQ(range->high, 60999u);
  EXPECT_FALSE(range->contains(32767));
  EXPECT_TRUE(range->contains(32768));
  EXPECT_TRUE(range->contains(60999));
  EXPECT_FALSE(range->contains(61000));
  // One port is a range too (a test narrows a namespace's range so).
  const auto one = parse_port_range("40001 40001");
  ASSERT_TRUE(one);
  EXPECT_TRUE(one->contains(40001));
  EXPECT_FALSE(one->contains(40000));
}

TEST(EphemeralPorts, RefusesAnythingButTwoPortsInOrder) {
  for (const char* text :
       {"", "\n", "32768", "32768\n", "32768 x", "x 60999", "32768 60999 1", "60999 32768",
        "32768 65536", "-1 60999", "32768,60999", "3276860999", "32768 60999x"}) {
    EXPECT_FALSE(parse_port_range(text)) << text;
  }
}

TEST(EphemeralPorts, ReadsAFileOrSaysItCannot) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("ephemeral_ports_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "range") << "1024\t2047\n";
  const auto range = read_port_range(dir / "range");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->low, 1024u);
  EXPECT_EQ(range->high, 2047u);
  EXPECT_FALSE(read_port_range(dir / "missing"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace herd::server
