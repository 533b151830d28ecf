"""Record time-to-live ([store] ttl_s): a record whose client time is more than ttl_s
seconds in the past is refused when it arrives, dropped when it is flooded, and forgotten
once it gets that old, on every server."""
import time
import unittest

from herdtest import at, fixtures, records
from herdtest import client as herd_client

TTL = 5              # seconds, [store] ttl_s
PROPAGATION = 2.0    # a fresh record across the herd; under TTL, so it is seen before it expires
MARGIN = 2           # seconds a check of a record's presence has before the record expires
EXPIRY = 6.0         # past TTL, until every server has forgotten a record
QUIET = 2.0          # how long an expired client is watched for coming back


def time_of(ns: int) -> str:
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def sleep_until(wall_ns: int) -> None:
    left = (wall_ns - time.time_ns()) / 1e9
    if left > 0:
        time.sleep(left)


class TtlTest(fixtures.FreshHerdTestCase):
    def setUp(self):
        super().setUp()
        self.config.store_settings["ttl_s"] = str(TTL)
        self.config.write()
        self.herd.start_all()

    def unknown(self, client_id: str) -> bytes:
        return f"? WHATSAT {client_id} 10 1\n".encode()

    def assert_forgotten_everywhere(self, client_ids: list[str], timeout: float, why: str):
        """Polls until every server answers `? ` for each of `client_ids`."""
        deadline = time.monotonic() + timeout
        while True:
            held = {(server, c): self.herd.whatsat(server, c) for server in self.config.names
                    for c in client_ids}
            wrong = {key: reply[:200] for key, reply in held.items()
                     if reply != self.unknown(key[1])}
            if not wrong or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertEqual(wrong, {}, why)

    def test_an_iamat_older_than_the_ttl_is_refused(self):
        for server in ("Clark", "Johnson"):
            with self.subTest(server=server):
                client_id = fixtures.unique("stale")
                stale = time_of(time.time_ns() - 10 * 10**9)
                line = herd_client.iamat_line(client_id, "+1+1", stale)
                with self.herd.connect(server) as conn:
                    conn.send(line)
                    self.assertEqual(conn.read_line(), b"? " + line)
                self.assertEqual(self.herd.whatsat(server, client_id), self.unknown(client_id))
                # Within the TTL is fine.
                recent = time_of(time.time_ns() - (TTL - MARGIN) * 10**9)
                reply = self.herd.iamat(server, client_id, "+1+1", recent)
                self.assertEqual(at.parse(reply).server, server.encode(), reply)
                self.assertEqual(self.herd.record(server, client_id), reply)

    def test_a_record_is_forgotten_everywhere_once_older_than_the_ttl(self):
        client_id = fixtures.unique("ephemeral")
        sent_ns = time.time_ns()
        line = self.herd.iamat("Clark", client_id, "+34.068930-118.445127", time_of(sent_ns))
        expected = {client_id: line}
        records.wait_for_exactly(self, self.herd, self.config.names, expected, PROPAGATION,
                                 "a fresh record did not reach every server")
        # Still there shortly before the TTL runs out...
        sleep_until(sent_ns + (TTL - MARGIN) * 10**9)
        snap = records.snapshot(self.herd, self.config.names, [client_id])
        records.assert_none(self, records.exact_problems(snap, expected),
                            f"forgotten before {TTL} s had passed")
        # ... and gone everywhere once it has.
        sleep_until(sent_ns + TTL * 10**9)
        self.assert_forgotten_everywhere([client_id], EXPIRY,
                                         f"still known {TTL + EXPIRY} s after its client time")
        # An IAMAT with that time again is refused now, and changes nothing.
        again = herd_client.iamat_line(client_id, "+34.068930-118.445127", time_of(sent_ns))
        with self.herd.connect("Johnson") as conn:
            conn.send(again)
            self.assertEqual(conn.read_line(), b"? " + again)
        self.assertEqual(self.herd.whatsat("Johnson", client_id), self.unknown(client_id))

    def test_a_late_record_from_a_restarted_server_does_not_come_back(self):
        """Clark is stopped holding, in its file, one record the herd knew and one that only
        it knew; it comes back after both expired: nobody knows either client. A third
        record only Clark knew, with a client time ahead of the clock (so it has not
        expired), shows that Clark's catch-up did run: it reaches every server."""
        names = self.config.names
        known = fixtures.unique("known")
        known_line = self.herd.iamat("Jaquez", known, "+5+5")
        records.wait_for_exactly(self, self.herd, names, {known: known_line}, PROPAGATION,
                                 "a fresh record did not reach every server")
        for name in ("Jaquez", "Juzang"):
            self.herd.stop(name)
        private = fixtures.unique("private")
        private_ns = time.time_ns()
        private_line = self.herd.iamat("Clark", private, "+6+6", time_of(private_ns))
        self.assertEqual(at.parse(private_line).server, b"Clark")
        control = fixtures.unique("control")
        control_line = self.herd.iamat("Clark", control, "+8+8",
                                       time_of(private_ns + 60 * 10**9))
        self.assertEqual(at.parse(control_line).server, b"Clark")
        self.herd.stop("Clark")
        for name in ("Jaquez", "Juzang"):
            self.herd.start(name)
        sleep_until(private_ns + TTL * 10**9)
        self.herd.start("Clark")
        # Clark's links are up once records made at each server reach every other (fresh
        # ones, re-sent until they do); whatever Clark's catch-up sends has had its chance
        # then, and some time more is watched below.
        self.herd.wait_linked()
        expected = {control: control_line}
        records.wait_for_exactly(self, self.herd, names, expected, PROPAGATION * 5,
                                 "Clark's catch-up did not send its unexpired record")
        self.assert_forgotten_everywhere([known, private], EXPIRY, "an expired client is known")
        deadline = time.monotonic() + QUIET
        while time.monotonic() < deadline:
            self.assert_forgotten_everywhere([known, private], 0, "an expired client came back")
            time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
