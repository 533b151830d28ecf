#include "store/packed_record.hpp"

#include <gtest/gtest.h>

#include <string>

namespace herd::store {
namespace {

using protocol::Location;
using protocol::Record;
using protocol::Timestamp;

void expect_same(const Record& unpacked, const Record& record) {
  EXPECT_EQ(unpacked.client_id, record.client_id);
  EXPECT_EQ(unpacked.location.latitude, record.location.latitude);
  EXPECT_EQ(unpacked.location.longitude, record.location.longitude);
  EXPECT_EQ(unpacked.client_time, record.client_time);
  EXPECT_EQ(unpacked.at_line, record.at_line);
}

Record kiwi() {
  return Record{"kiwi.cs.ucla.edu", Location{"+34.068930", "-118.445127"},
                Timestamp{1621464827, 959498503},
                "AT Clark +0.263873386 kiwi.cs.ucla.edu +34.068930-118.445127 "
                "1621464827.959498503"};
}

TEST(PackedRecord, GivesBackEveryField) {
  const Record kiwi_record = kiwi();
  const PackedRecord packed(kiwi_record);
  EXPECT_EQ(packed.client_id(), kiwi_record.client_id);
  EXPECT_EQ(packed.at_line(), kiwi_record.at_line);
  EXPECT_EQ(packed.client_time(), kiwi_record.client_time);
  EXPECT_EQ(packed.version().client_time, kiwi_record.client_time);
  EXPECT_EQ(packed.version().at_line, kiwi_record.at_line);
  expect_same(packed.unpack(), kiwi_record);
}

TEST(PackedRecord, TakesALongerOrShorterRecord) {
  PackedRecord packed(kiwi());
  const Record longer{"kiwi.cs.ucla.edu", Location{"+34.0689301234", "-118.4451271234"},
                      Timestamp{1621464900, 0},
                      "AT Johnson +72.000000000 kiwi.cs.ucla.edu "
                      "+34.0689301234-118.4451271234 1621464900"};
  packed.assign(longer);
  expect_same(packed.unpack(), longer);
  const Record shorter{"k", Location{"+1", "-2"}, Timestamp{5, 1},
                       "AT C +0.000000000 k +1-2 5.000000001"};
  packed.assign(shorter);
  expect_same(packed.unpack(), shorter);
  EXPECT_EQ(packed.client_id(), "k");
}

TEST(PackedRecord, FieldsMayBeEmpty) {
  const Record empty{"", Location{"", ""}, Timestamp{}, ""};
  const PackedRecord packed(empty);
  expect_same(packed.unpack(), empty);
  EXPECT_TRUE(packed.client_id().empty());
  EXPECT_TRUE(packed.at_line().empty());
}

}  // namespace
}  // namespace herd::store
