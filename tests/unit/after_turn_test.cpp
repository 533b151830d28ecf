#include "loop/after_turn.hpp"

#include <gtest/gtest.h>

#include "manual_loop.hpp"

namespace herd::loop {
namespace {

using herd::testing::ManualLoop;

TEST(AfterTurn, WithoutALoopRunsAtOnceEveryTime) {
  int runs = 0;
  AfterTurn flush({}, [&] { ++runs; });
  flush.request();
  flush.request();
  EXPECT_EQ(runs, 2);
}

TEST(AfterTurn, ManyRequestsInATurnRunTheActionOnceAfterIt) {
  ManualLoop loop;
  int runs = 0;
  AfterTurn flush(loop.post(), [&] { ++runs; });
  flush.request();
  flush.request();
  flush.request();
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(loop.queued(), 1u);
  loop.run_queued();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(loop.queued(), 0u);

  // The next turn's request posts again.
  flush.request();
  EXPECT_EQ(loop.queued(), 1u);
  loop.run_queued();
  EXPECT_EQ(runs, 2);
}

TEST(AfterTurn, ARequestWhileTheActionRunsGetsAnActionOfItsOwn) {
  ManualLoop loop;
  int runs = 0;
  AfterTurn* self = nullptr;
  AfterTurn flush(loop.post(), [&] {
    if (++runs == 1) self->request();
  });
  self = &flush;
  flush.request();
  loop.run_queued();
  EXPECT_EQ(runs, 1);
  ASSERT_EQ(loop.queued(), 1u);
  loop.run_queued();
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(loop.queued(), 0u);
}

}  // namespace
}  // namespace herd::loop
