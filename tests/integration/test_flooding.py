"""Records travel the herd (PROTOCOL.md: IAMAT record rules, Between servers): every
server ends up with the same, newest record, also across a dead server and after one
comes back."""
import time
import unittest

from herdtest import at, client, fixtures

PROPAGATION = 5.0   # bound on waiting for a record to cross the herd
REDIAL = 10.0       # bound on a restarted server's links coming back


class RecordChecks:
    """For test cases with `self.herd` running all five servers."""

    def assert_everywhere(self, client_id: str, expected: bytes, servers=None):
        for server in servers or self.config.names:
            held = self.herd.wait_record(server, client_id, expected, PROPAGATION)
            self.assertEqual(held, expected, f"record of {client_id} at {server}")

    def marker_everywhere(self, origin: str):
        """A fresh record sent to `origin` and seen everywhere: whatever `origin` flooded
        before it has had its chance to arrive too."""
        marker = fixtures.unique("marker")
        line = self.herd.iamat(origin, marker)
        self.assert_everywhere(marker, line)


class FloodingTest(RecordChecks, fixtures.HerdTestCase):
    def test_record_reaches_every_server_unchanged(self):
        client_id = fixtures.unique("kiwi.cs.ucla.edu")
        line = self.herd.iamat("Clark", client_id, "+34.068930-118.445127", client.now_time())
        self.assertEqual(at.parse(line).server, b"Clark")
        # Right after the reply, Johnson (two links away) should find it.
        self.assert_everywhere(client_id, line, ["Johnson"])
        self.assert_everywhere(client_id, line)
        # Asking again is not a new record: still Clark's own line, byte for byte.
        time.sleep(0.05)
        for server in self.config.names:
            self.assertEqual(self.herd.record(server, client_id), line)

    def test_records_from_every_server(self):
        for origin in self.config.names:
            with self.subTest(origin=origin):
                client_id = fixtures.unique(f"from-{origin}")
                line = self.herd.iamat(origin, client_id, "-12.5+100.25")
                self.assert_everywhere(client_id, line)

    def test_older_iamat_answered_but_changes_nothing(self):
        client_id = fixtures.unique("older")
        newer = self.herd.iamat("Clark", client_id, "+10+10", "1621464827.5")
        self.assert_everywhere(client_id, newer)
        for server in ("Bernard", "Clark", "Juzang"):
            with self.subTest(server=server):
                reply = self.herd.iamat(server, client_id, "+20+20", "1621464827.499999999")
                parsed = at.parse(reply)
                self.assertEqual(parsed.server, server.encode())
                self.assertEqual(parsed.echo, f"{client_id} +20+20 1621464827.499999999".encode())
                self.marker_everywhere(server)
                for other in self.config.names:
                    self.assertEqual(self.herd.record(other, client_id), newer, other)

    def test_newer_iamat_replaces_record_everywhere(self):
        client_id = fixtures.unique("newer")
        first = self.herd.iamat("Clark", client_id, "+10+10", "1621464827")
        self.assert_everywhere(client_id, first)
        second = self.herd.iamat("Johnson", client_id, "+11+11", "1621464827.000000001")
        self.assert_everywhere(client_id, second)

    def test_equal_times_settle_on_bytewise_greater_line(self):
        for first, second in [("Clark", "Johnson"), ("Johnson", "Clark"), ("Bernard", "Juzang")]:
            with self.subTest(first=first, second=second):
                client_id = fixtures.unique("tie")
                client_time = "1621464827.959498503"
                line_a = self.herd.iamat(first, client_id, "+34.068930-118.445127", client_time)
                line_b = self.herd.iamat(second, client_id, "+34.068930-118.445127", client_time)
                self.assertNotEqual(line_a, line_b)
                winner = max(line_a, line_b)
                self.assert_everywhere(client_id, winner)
                self.marker_everywhere(first)
                self.marker_everywhere(second)
                for server in self.config.names:
                    self.assertEqual(self.herd.record(server, client_id), winner, server)


class DeadServerTest(fixtures.FreshHerdTestCase):
    def setUp(self):
        super().setUp()
        self.herd.start_all()

    def wait_reaches(self, origin: str, target: str, timeout: float) -> bool:
        """Sends fresh IAMATs to `origin` until one shows up at `target` (a record sent
        while a link is down may be lost, so each try is a newer record)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            client_id = fixtures.unique(f"{origin}-to-{target}")
            line = self.herd.iamat(origin, client_id)
            if self.herd.wait_record(target, client_id, line, 0.5) == line:
                return True
        return False

    def test_update_goes_around_a_dead_server_and_links_come_back(self):
        self.herd.kill("Juzang")
        # Clark still serves while a neighbour is down.
        client_id = fixtures.unique("around")
        line = self.herd.iamat("Clark", client_id)
        self.assertEqual(at.parse(line).server, b"Clark")
        # Clark–Jaquez–Bernard–Johnson.
        self.assertEqual(self.herd.wait_record("Johnson", client_id, line, PROPAGATION), line)
        self.assertEqual(self.herd.wait_record("Bernard", client_id, line, PROPAGATION), line)
        reply = self.herd.whatsat("Clark", client_id, "10", 1)
        self.assertTrue(reply.startswith(line + b"\n{"), reply[:200])

        # With Jaquez down too, Clark and Juzang only have their direct link, so a record
        # crossing shows that link came back by itself.
        self.herd.kill("Jaquez")
        self.herd.start("Juzang")
        self.assertTrue(self.wait_reaches("Juzang", "Clark", REDIAL),
                        "a record sent to the restarted Juzang never reached Clark")
        self.assertTrue(self.wait_reaches("Clark", "Juzang", REDIAL),
                        "Clark never re-dialled the restarted Juzang")

    def test_server_keeps_serving_with_all_neighbours_down(self):
        self.herd.kill("Jaquez")
        self.herd.kill("Juzang")
        time.sleep(0.3)  # let Clark notice and start re-dialling
        for i in range(3):
            client_id = fixtures.unique(f"alone{i}")
            line = self.herd.iamat("Clark", client_id)
            self.assertEqual(at.parse(line).server, b"Clark")
            reply = self.herd.whatsat("Clark", client_id, "10", 1)
            self.assertTrue(reply.startswith(line + b"\n{"), reply[:200])

    def test_stopped_server_restarted_rejoins(self):
        status = self.herd.stop("Bernard")
        self.assertEqual(status, 0, "herd serve should exit 0 on SIGTERM")
        self.herd.start("Bernard")
        self.assertTrue(self.wait_reaches("Bernard", "Jaquez", REDIAL))
        self.assertTrue(self.wait_reaches("Jaquez", "Bernard", REDIAL))
        self.assertTrue(self.wait_reaches("Johnson", "Bernard", REDIAL))


class NeighbourWireTest(RecordChecks, fixtures.HerdTestCase):
    """The herd's own link format: `HERD <name>` then AT lines, accepted only from a
    configured neighbour."""

    def at_line(self, client_id: str, server: str = "Jaquez") -> bytes:
        return client.at_line(server, client_id, "+34.06-118.44", client.now_time())

    def test_records_from_a_neighbour_are_stored_and_flooded_on(self):
        client_id = fixtures.unique("wire")
        line = self.at_line(client_id)
        data = client.exchange(self.herd.port("Clark"), b"HERD Jaquez\n" + line + b"\n")
        # The only line back is where Jaquez's catch-up starts (docs/catch-up.md).
        self.assertRegex(data, rb"\ASINCE (-|[0-9a-f]{16}) [0-9]+\n\Z",
                         "a neighbour link gets no replies but SINCE")
        # Clark stores the line as it came and floods it on (Clark–Juzang–Johnson).
        self.assertEqual(self.herd.wait_record("Clark", client_id, line, PROPAGATION), line)
        self.assertEqual(self.herd.wait_record("Johnson", client_id, line, PROPAGATION), line)

    def test_at_lines_without_a_neighbour_greeting_are_refused(self):
        client_id = fixtures.unique("forged")
        line = self.at_line(client_id)
        for greeting in (b"", b"HERD Johnson\n", b"HERD Clark\n", b"HERD Nobody\n"):
            with self.subTest(greeting=greeting):
                expected = (b"? " + greeting if greeting else b"") + b"? " + line + b"\n"
                data = client.exchange(self.herd.port("Clark"), greeting + line + b"\n")
                self.assertEqual(data, expected)
        self.marker_everywhere("Clark")
        for server in self.config.names:
            self.assertIsNone(self.herd.record(server, client_id), server)

    def test_an_authenticated_greeting_to_a_herd_without_a_secret_ends_the_connection(self):
        # Nothing that came after it on the connection is handled, even in the same packet.
        client_id = fixtures.unique("after-greeting")
        greeting = f"HERD Jaquez {'ab' * 16}\n".encode()
        iamat = client.iamat_line(client_id, "+1+2", client.now_time())
        self.assertEqual(client.exchange(self.herd.port("Clark"), greeting + iamat), b"")
        self.marker_everywhere("Clark")
        self.assertIsNone(self.herd.record("Clark", client_id))
        self.assertIn(b"offered an authenticated link as Jaquez, but this server has no link "
                      b"secret; closing", self.herd.log_path("Clark").read_bytes())


if __name__ == "__main__":
    unittest.main()
