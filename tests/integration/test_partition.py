"""A partitioned herd: with Bernard and Juzang down, {Clark, Jaquez} and {Johnson} cannot
reach each other. Each side takes updates of its own; when Bernard and Juzang come back,
every server settles on the newest record of every client (catch-up and flooding)."""
import sys
import time
import unittest

from herdtest import fixtures, records
from herdtest import client as herd_client

PROPAGATION = 10.0   # a record across one side of the partition
CONVERGE = 15.0      # from the restart of Bernard and Juzang until all five agree

SIDE_A = ["Clark", "Jaquez"]
SIDE_B = ["Johnson"]
BRIDGES = ["Bernard", "Juzang"]


class PartitionTest(fixtures.FreshHerdTestCase):
    def setUp(self):
        super().setUp()
        self.herd.start_all()

    def iamat(self, server: str, client_id: str, client_time: str) -> bytes:
        return self.herd.iamat(server, client_id, "+12.5-45.25", client_time)

    def test_two_sides_converge_after_the_partition_heals(self):
        names = self.config.names
        token = fixtures.unique("p")
        # Before the partition: records everywhere.
        before = {}
        for i in range(6):
            client_id = f"shared{i}-{token}"
            before[client_id] = self.iamat(names[i % 5], client_id, herd_client.now_time())
        for i in range(2):
            client_id = f"untouched{i}-{token}"
            before[client_id] = self.iamat(names[(i + 2) % 5], client_id, herd_client.now_time())
        records.wait_for_exactly(self, self.herd, names, before, PROPAGATION,
                                 "records did not cross the whole herd")

        # The partition: SIGKILL for one bridge, SIGTERM for the other.
        self.herd.kill("Bernard")
        self.herd.stop("Juzang")

        ledger = records.SplitLedger(before)
        a, b = 0, 1

        def update(side: int, server: str, client_id: str, client_time: str) -> None:
            ledger.update(side, client_id, self.iamat(server, client_id, client_time))

        for i in range(4):
            update(a, SIDE_A[i % 2], f"onlyA{i}-{token}", herd_client.now_time())
            update(b, "Johnson", f"onlyB{i}-{token}", herd_client.now_time())
        # Shared clients updated on both sides, the newer update on side A for even i and
        # on side B for odd i, and sent in either order.
        for i in range(4):
            client_id = f"shared{i}-{token}"
            now = time.time_ns()
            older, newer = herd_client.client_time(now), herd_client.client_time(now + 1000)
            a_time, b_time = (newer, older) if i % 2 == 0 else (older, newer)
            if i < 2:
                update(a, SIDE_A[i % 2], client_id, a_time)
                update(b, "Johnson", client_id, b_time)
            else:
                update(b, "Johnson", client_id, b_time)
                update(a, SIDE_A[i % 2], client_id, a_time)
        # And shared clients updated on one side only.
        update(a, "Jaquez", f"shared4-{token}", herd_client.now_time())
        update(b, "Johnson", f"shared5-{token}", herd_client.now_time())

        # Each side holds its own updates only.
        for side, servers in ((a, SIDE_A), (b, SIDE_B)):
            records.wait_for_exactly(self, self.herd, servers, ledger.sides[side], PROPAGATION,
                                     f"side {servers} does not hold what it should "
                                     "(its own updates, none of the other side's)")

        # Healing: the bridges come back; everything converges to the newest record.
        expected = ledger.healed()
        healed = time.monotonic()
        for name in BRIDGES:
            self.herd.start(name, wait=False)
        for name in BRIDGES:
            self.herd.wait_port(name)
        records.wait_for_exactly(self, self.herd, names, expected, CONVERGE,
                                 f"not converged within {CONVERGE} s of the restart of Bernard "
                                 "and Juzang")
        print(f"\n  partition healed: all five agree on {len(expected)} clients "
              f"{time.monotonic() - healed:.2f} s after Bernard and Juzang were started",
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
