"""Each server's log (PROTOCOL.md: Logs): one file a server, a UTC timestamp on every
line, every line received and sent, connections opened and closed, link failures, and
never the API key."""
import datetime
import re
import socket
import time
import unittest

from herdtest import client, env, fixtures
from herdtest import herd as herd_mod
from herdtest import upstream as up
from herdtest.client import Connection

TIMESTAMP = re.compile(rb"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)Z")
WAIT = 5.0


def wait_for(predicate, timeout: float = WAIT):
    """Polls `predicate` until it returns something true; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


class LogsTest(fixtures.HerdTestCase):
    def log(self, name: str) -> bytes:
        path = self.herd.log_path(name)
        return path.read_bytes() if path.exists() else b""

    def log_contains(self, name: str, *pieces: bytes, start: int = 0) -> bool:
        text = self.log(name)[start:]
        return all(piece in text for piece in pieces)

    def test_each_server_has_its_own_log_with_utc_timestamps(self):
        started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        for name in self.config.names:
            with self.subTest(server=name):
                self.assertTrue(wait_for(lambda: self.log(name)), f"{self.herd.log_path(name)} empty")
                lines = self.log(name).split(b"\n")
                if lines[-1] == b"":
                    lines.pop()
                for line in lines:
                    match = TIMESTAMP.match(line)
                    self.assertIsNotNone(match, line)
                    stamp = datetime.datetime.fromisoformat(match.group(1).decode()[:26])
                    # UTC, not local time: within a few minutes of the test's own UTC clock.
                    self.assertLess(abs((stamp - started).total_seconds()), 300, line)

    def test_received_and_sent_lines_logged(self):
        client_id = fixtures.unique("logged")
        client_time = client.now_time()
        sent = client.iamat_line(client_id, "+34.068930-118.445127", client_time)[:-1]
        with Connection(self.herd.port("Jaquez")) as conn:
            conn.send(sent + b"\nNONSENSE " + client_id.encode() + b"\n")
            reply = conn.read_line()[:-1]
            refusal = conn.read_line()[:-1]
        self.assertEqual(refusal, b"? NONSENSE " + client_id.encode())
        self.assertTrue(wait_for(lambda: self.log_contains("Jaquez", sent, reply, refusal,
                                                           b"NONSENSE " + client_id.encode())),
                        self.log("Jaquez")[-2000:])
        # Jaquez floods the record to Bernard, which logs the line it received.
        self.assertTrue(wait_for(lambda: self.log_contains("Bernard", reply)))
        # A WHATSAT and the AT line that starts its reply.
        with Connection(self.herd.port("Jaquez")) as conn:
            conn.send(f"WHATSAT {client_id} 10 1\n".encode())
            whatsat = conn.read_whatsat()
        self.assertTrue(whatsat.startswith(reply + b"\n"))
        self.assertTrue(wait_for(lambda: self.log_contains(
            "Jaquez", f"WHATSAT {client_id} 10 1".encode())))

    def test_connections_opened_and_closed_logged(self):
        before = len(self.log("Juzang"))
        with Connection(self.herd.port("Juzang")) as conn:
            port = str(conn.local_port()).encode()
            time.sleep(0.1)

        def mentions():
            return [line for line in self.log("Juzang")[before:].split(b"\n")
                    if re.search(rb"\b" + port + rb"\b", line)]
        self.assertGreaterEqual(len(wait_for(lambda: len(mentions()) >= 2 and mentions())), 2,
                                f"open and close of a client from port {port!r} not logged: "
                                f"{self.log('Juzang')[before:]!r}")

    def test_api_key_never_logged(self):
        client_id = fixtures.unique("secret")
        self.herd.iamat("Clark", client_id)
        for answer in (up.body(env.sample("bank-3-results.json")), up.http_error(), up.garbage(),
                       up.slow(b"{}\n", 3)):
            self.upstream.set_default(answer)
            self.herd.whatsat("Clark", client_id, "10", 2, timeout=8)
        self.assertGreaterEqual(len(self.upstream.requests()), 4)
        time.sleep(0.2)
        self.assertTrue(self.log("Clark"))
        self.assertNotIn(self.config.key.encode(), self.herd.all_output())


class LinkLogTest(fixtures.FreshHerdTestCase):
    def test_link_failure_logged_with_the_neighbour_name(self):
        self.herd.start_all()
        log = self.herd.log_path("Clark")
        before = len(log.read_bytes())
        self.herd.kill("Juzang")
        self.assertTrue(wait_for(lambda: b"Juzang" in log.read_bytes()[before:]),
                        f"Clark logged nothing about losing Juzang: {log.read_bytes()[before:]!r}")


class EphemeralPortLogTest(fixtures.FreshHerdTestCase):
    def test_a_port_in_the_ephemeral_range_is_warned_of(self):
        """A server whose port is in the host's ephemeral range says so at start
        (docs/protocol.md, "Links that drop"); one below it does not."""
        low, high = herd_mod.ephemeral_ports()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))   # the kernel picks from the ephemeral range
            port = sock.getsockname()[1]
        self.assertTrue(low <= port <= high, (port, low, high))
        self.config.ports["Clark"] = port
        self.config.write()
        self.assertLess(self.herd.port("Jaquez"), low)
        self.herd.start("Clark")
        self.herd.start("Jaquez")
        warning = (f" WARN {self.config.path}: servers[1].port {port} is in this host's "
                   f"ephemeral range {low}-{high} (net.ipv4.ip_local_port_range): while Clark "
                   "is down, a connection that dials it may connect to itself and hold the "
                   "port; a port outside the range avoids that\n").encode()
        clark = self.herd.log_path("Clark")
        self.assertTrue(wait_for(lambda: warning in clark.read_bytes()), clark.read_bytes())
        jaquez = self.herd.log_path("Jaquez")
        self.assertTrue(wait_for(lambda: b"Jaquez listening on" in jaquez.read_bytes()))
        self.assertNotIn(b"ephemeral", jaquez.read_bytes())


if __name__ == "__main__":
    unittest.main()
