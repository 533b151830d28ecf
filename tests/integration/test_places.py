"""WHATSAT replies and the places source (PROTOCOL.md: WHATSAT, Google's JSON layout):
byte-exact bodies over HTTPS with the test CA, what the upstream is asked, failures
turned into UNKNOWN_ERROR, replies kept in order, requests served concurrently."""
import threading
import time
import unittest

from herdtest import client, env, fixtures, places
from herdtest import herd as herd_mod
from herdtest import upstream as up
from herdtest.client import Connection

BANK = "bank-3-results.json"
SUPERMARKET = "supermarket-1-result.json"
LOCATION = "+34.068930-118.445127"
LOCATION_QUERY = "34.068930,-118.445127"
SLOW_SECONDS = 4.0   # well over the herd's timeout_ms of 1000


class NewClients:
    """For test cases with `self.herd` running."""

    def new_client(self, location: str = LOCATION, server: str = "Clark"):
        client_id = fixtures.unique("places")
        return client_id, self.herd.iamat(server, client_id, location)


class WhatsatTest(NewClients, fixtures.HerdTestCase):
    def test_bodies_byte_exact_for_each_bound(self):
        for sample in (BANK, SUPERMARKET):
            text = env.sample(sample)
            self.upstream.set_default(up.body(text))
            client_id, at_line = self.new_client()
            for bound in (1, 2, 3, 20):
                with self.subTest(sample=sample, bound=bound):
                    reply = self.herd.whatsat("Clark", client_id, "10", bound)
                    self.assertEqual(reply, places.whatsat_reply(at_line, text, bound))
        # bound >= 3 on a 3-result body is the body minus its final newline.
        self.upstream.set_default(up.body(env.sample(BANK)))
        client_id, at_line = self.new_client()
        self.assertEqual(self.herd.whatsat("Clark", client_id, "10", 3),
                         at_line + b"\n" + env.sample(BANK)[:-1] + b"\n\n")

    def test_reply_carries_the_stored_at_line_of_the_receiving_server(self):
        text = env.sample(BANK)
        self.upstream.set_default(up.body(text))
        client_id, at_line = self.new_client(server="Bernard")
        for server in ("Bernard", "Johnson", "Clark"):
            with self.subTest(server=server):
                self.assertEqual(self.herd.wait_record(server, client_id, at_line), at_line)
                self.assertEqual(self.herd.whatsat(server, client_id, "5", 2),
                                 places.whatsat_reply(at_line, text, 2))

    def test_upstream_asked_for_location_radius_in_metres_and_key(self):
        cases = [("10", "10000"), ("0.0001", "0.1"), ("2.5", "2500"), ("50", "50000"),
                 ("0.001", "1"), ("1.25", "1250"), ("007", "7000"), ("12.3456789", "12345.6789")]
        for location, query in [(LOCATION, LOCATION_QUERY), ("-33.8670522+151.1957362",
                                                             "-33.8670522,151.1957362"),
                                ("+1-2", "1,-2")]:
            client_id, _ = self.new_client(location)
            for radius, metres in cases:
                with self.subTest(location=location, radius=radius):
                    self.upstream.reset_log()
                    self.herd.whatsat("Clark", client_id, radius, 1)
                    requests = self.upstream.wait_for_requests(1, 1)
                    self.assertEqual(len(requests), 1, requests)
                    request = requests[0]
                    self.assertEqual(request.method, "GET")
                    self.assertEqual(request.path, up.NEARBY_PATH)
                    self.assertEqual(request.param("location"), query)
                    self.assertEqual(request.param("radius"), metres)
                    self.assertEqual(request.param("key"), self.config.key)

    def test_key_never_in_replies_or_logs(self):
        replies = b""
        client_id, _ = self.new_client()
        for answer in (up.body(env.sample(BANK)), up.http_error(), up.garbage(),
                       up.body(up.status_body("REQUEST_DENIED", "The provided API key is invalid."))):
            self.upstream.set_default(answer)
            replies += self.herd.whatsat("Clark", client_id, "10", 3)
        self.assertTrue(self.upstream.requests())
        self.assertNotIn(self.config.key.encode(), replies)
        self.assertNotIn(self.config.key.encode(), self.herd.all_output())

    def test_keep_alive_reuses_one_upstream_connection(self):
        client_id, _ = self.new_client()
        self.upstream.reset_log()
        for radius in ("10", "11", "12"):
            self.herd.whatsat("Clark", client_id, radius, 1)
        requests = self.upstream.wait_for_requests(3, 1)
        self.assertEqual(len(requests), 3)
        self.assertEqual(len({r.connection for r in requests}), 1,
                         [r.connection for r in requests])

    def assert_unknown_error(self, answer: up.Answer, *, upper_bound: float):
        self.upstream.set_default(answer)
        client_id, at_line = self.new_client()
        started = time.monotonic()
        reply = self.herd.whatsat("Clark", client_id, "10", 5, timeout=upper_bound + 5)
        elapsed = time.monotonic() - started
        self.assertTrue(places.is_unknown_error_reply(reply, at_line), reply)
        self.assertLess(elapsed, upper_bound, "reply came later than the herd's deadline allows")
        self.assertNotIn(self.config.key.encode(), reply)
        return reply

    def test_slow_upstream_gives_unknown_error_within_deadline(self):
        self.assert_unknown_error(up.slow(env.sample(BANK), SLOW_SECONDS),
                                  upper_bound=self.timeout_ms / 1000 + 3)

    def test_upstream_hanging_up_gives_unknown_error(self):
        self.assert_unknown_error(up.Answer(hang_up=True), upper_bound=self.timeout_ms / 1000 + 3)

    def test_http_500_gives_unknown_error(self):
        self.assert_unknown_error(up.http_error(500), upper_bound=self.timeout_ms / 1000 + 3)

    def test_http_404_gives_unknown_error(self):
        self.assert_unknown_error(up.http_error(404), upper_bound=self.timeout_ms / 1000 + 3)

    def test_garbage_gives_unknown_error(self):
        self.assert_unknown_error(up.garbage(), upper_bound=self.timeout_ms / 1000 + 3)

    def test_google_statuses_passed_through(self):
        for status, message in [("ZERO_RESULTS", None),
                                ("REQUEST_DENIED", "The provided API key is invalid."),
                                ("OVER_QUERY_LIMIT", "You have exceeded your daily request quota for this API."),
                                ("INVALID_REQUEST", None)]:
            with self.subTest(status=status):
                text = up.status_body(status, message)
                self.upstream.set_default(up.body(text))
                client_id, at_line = self.new_client()
                reply = self.herd.whatsat("Clark", client_id, "10", 5)
                self.assertEqual(reply, at_line + b"\n" + text[:-1] + b"\n\n")

    def test_newline_rule_applied_to_body(self):
        original = env.sample(SUPERMARKET)
        lines = original.split(b"\n")
        stuffed = b"\n".join(line + (b"\n\n" if i % 4 == 0 else b"") for i, line in enumerate(lines))
        stuffed += b"\n\n\n"
        self.assertIn(b"\n\n\n", stuffed)
        self.upstream.set_default(up.body(stuffed))
        client_id, at_line = self.new_client()
        reply = self.herd.whatsat("Clark", client_id, "10", 20)
        self.assertEqual(reply, at_line + b"\n" + original[:-1] + b"\n\n")
        self.assertEqual(reply, places.whatsat_reply(at_line, stuffed, 20))

    def test_replies_on_one_connection_keep_request_order(self):
        self.upstream.set_default(up.slow(env.sample(BANK), SLOW_SECONDS))
        client_id, at_line = self.new_client()
        other = fixtures.unique("after-slow")
        other_time = client.now_time()
        with Connection(self.herd.port("Clark")) as conn:
            conn.send(f"WHATSAT {client_id} 10 1\n".encode() +
                      client.iamat_line(other, "+1+2", other_time) + b"WHATSAT\n")
            first = conn.read_whatsat(timeout=self.timeout_ms / 1000 + 5)
            second = conn.read_line()
            third = conn.read_line()
        self.assertTrue(places.is_unknown_error_reply(first, at_line), first)
        self.assertTrue(second.startswith(b"AT Clark "), second)
        self.assertTrue(second.endswith(f" {other} +1+2 {other_time}\n".encode()), second)
        self.assertEqual(third, b"? WHATSAT\n")


class WaitingOnThePlacesSourceTest(NewClients, fixtures.HerdTestCase):
    timeout_ms = fixtures.HELD_CALLS_TIMEOUT_MS

    def test_other_clients_served_while_one_waits_on_the_places_source(self):
        release = threading.Event()
        self.addCleanup(release.set)
        self.upstream.route(up.held(env.sample(BANK), release), location="45,45")
        self.upstream.route(up.body(env.sample(SUPERMARKET)), location="46,46")
        slow_id, slow_at = self.new_client("+45+45")
        fast_id, fast_at = self.new_client("+46+46")
        with Connection(self.herd.port("Clark")) as waiting:
            waiting.send(f"WHATSAT {slow_id} 10 2\n".encode())
            self.assertEqual(len(self.upstream.wait_for_requests(1)), 1)
            # The herd is now waiting on the places source for `waiting`.
            other = fixtures.unique("meanwhile")
            line = self.herd.iamat("Clark", other, "+1+2")
            fast = self.herd.whatsat("Clark", fast_id, "10", 1)
            waited_still = not waiting.has_data()
            release.set()
            slow = waiting.read_whatsat()
        self.assertTrue(line.startswith(b"AT Clark "), line)
        self.assertEqual(fast, places.whatsat_reply(fast_at, env.sample(SUPERMARKET), 1))
        self.assertTrue(waited_still, "the slow WHATSAT was answered before the others")
        self.assertEqual(slow, places.whatsat_reply(slow_at, env.sample(BANK), 2))


class PlainHttpTest(unittest.TestCase):
    """`http://` places URLs work too (a local relay)."""

    def test_whatsat_over_plain_http(self):
        tmp = fixtures.make_tmpdir("plain", self.addCleanup)
        upstream = up.PlacesUpstream(None)
        self.addCleanup(upstream.close)
        text = env.sample(BANK)
        upstream.set_default(up.body(text))
        config = herd_mod.HerdConfig(tmp, upstream.url, None, names=["Clark"],
                                     links={"Clark": []})
        herd = herd_mod.Herd(config)
        self.addCleanup(herd.close)
        herd.start("Clark")
        client_id = fixtures.unique("plain")
        at_line = herd.iamat("Clark", client_id, LOCATION)
        self.assertEqual(herd.whatsat("Clark", client_id, "2.5", 2),
                         places.whatsat_reply(at_line, text, 2))
        request = upstream.requests()[-1]
        self.assertEqual((request.param("location"), request.param("radius"), request.param("key")),
                         (LOCATION_QUERY, "2500", config.key))


class CertificateTest(unittest.TestCase):
    """Without the test CA, the herd must refuse the upstream's certificate."""

    def start_clark(self, ca_file, key_file: bool = False):
        tmp = fixtures.make_tmpdir("cert", self.addCleanup)
        self.upstream = up.PlacesUpstream(fixtures.test_pki())
        self.addCleanup(self.upstream.close)
        self.upstream.set_default(up.body(env.sample(BANK)))
        self.config = herd_mod.HerdConfig(tmp, self.upstream.url, ca_file)
        if key_file:
            self.config.key_file = tmp / "places.key"
            self.config.key_file.write_text(self.config.key + "\n")
        herd = herd_mod.Herd(self.config)
        self.addCleanup(herd.close)
        herd.start("Clark")  # its neighbours stay down; it serves anyway
        return herd

    def test_without_ca_file_the_test_certificate_is_rejected(self):
        herd = self.start_clark(None)
        client_id = fixtures.unique("noca")
        at_line = herd.iamat("Clark", client_id, LOCATION)
        reply = herd.whatsat("Clark", client_id, "10", 1, timeout=10)
        self.assertTrue(places.is_unknown_error_reply(reply, at_line), reply)
        self.assertTrue(self.upstream.wait_for_handshake_failure(), "no TLS handshake was tried")
        self.assertEqual(self.upstream.requests(), [])
        self.assertNotIn(self.config.key.encode(), herd.all_output())

    def test_key_from_key_file(self):
        herd = self.start_clark(fixtures.test_pki().ca_file, key_file=True)
        client_id = fixtures.unique("keyfile")
        at_line = herd.iamat("Clark", client_id, LOCATION)
        self.assertEqual(herd.whatsat("Clark", client_id, "10", 1),
                         places.whatsat_reply(at_line, env.sample(BANK), 1))
        self.assertEqual(self.upstream.requests()[-1].param("key"), self.config.key)
        self.assertNotIn(self.config.key.encode(), herd.all_output())


if __name__ == "__main__":
    unittest.main()
