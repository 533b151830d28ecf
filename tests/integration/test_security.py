"""Issue: hostile input. Neighbour authentication and the limits that hold under abuse,
checked against real servers as a client (or an impostor) would meet them."""
import hashlib
import hmac
import os
import pathlib
import pwd
import resource
import secrets
import shutil
import signal
import stat
import socket
import subprocess
import threading
import time
import unittest

from herdtest import env, fixtures
from herdtest import herd as herd_mod
from herdtest import upstream as up
from herdtest.client import Connection, ReplyTimeout

SECRET_ENV = "HERD_TEST_LINK_SECRET"


def proof(secret: str, label: str, *fields: str) -> str:
    """The handshake's HMAC-SHA256, computed here independently of the server's code."""
    message = "\n".join((label,) + fields).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def closed_by_server(conn: Connection, timeout: float = 10.0) -> bool:
    """True when the server ends the connection (EOF or reset) within `timeout`."""
    conn.sock.settimeout(timeout)
    try:
        while True:
            chunk = conn.sock.recv(65536)
            if not chunk:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


class AuthenticatedLinksTest(fixtures.FreshHerdTestCase):
    """A herd whose links are authenticated with a secret from the environment."""

    def setUp(self):
        super().setUp()
        self.secret = "s3cret-" + secrets.token_hex(16)
        self.config.sections["links"] = {"secret_env": f'"{SECRET_ENV}"'}
        self.config.extra_env[SECRET_ENV] = self.secret
        self.config.write()
        self.herd.start_all()  # waits until records cross every link

    def impostor_hello(self, conn: Connection, name: str) -> tuple[str, str, str]:
        """Sends `HERD name nonce`; returns (our nonce, their nonce, their proof)."""
        nonce = secrets.token_hex(16)
        conn.send(f"HERD {name} {nonce}\n".encode())
        fields = conn.read_line().decode().split()
        self.assertEqual(fields[0], "CHALLENGE")
        self.assertEqual(len(fields), 3)
        return nonce, fields[1], fields[2]

    def test_records_flood_over_authenticated_links(self):
        client = fixtures.unique("auth")
        at_line = self.herd.iamat("Clark", client)
        for name in herd_mod.NAMES:
            self.assertEqual(self.herd.wait_record(name, client, at_line), at_line)

    def test_the_acceptor_proves_it_holds_the_secret(self):
        with Connection(self.herd.port("Bernard")) as conn:
            ours, theirs, their_proof = self.impostor_hello(conn, "Jaquez")
            self.assertEqual(their_proof,
                             proof(self.secret, "herd-link-acceptor", "Bernard", "Jaquez", ours,
                                   theirs))

    def test_a_neighbour_that_proves_itself_may_write_records(self):
        client = fixtures.unique("proved")
        with Connection(self.herd.port("Bernard")) as conn:
            ours, theirs, _ = self.impostor_hello(conn, "Jaquez")
            conn.send(f"PROOF {proof(self.secret, 'herd-link-dialler', 'Jaquez', 'Bernard', theirs, ours)}\n"
                      .encode())
            at_line = f"AT Jaquez +0.000000001 {client} +1+2 1700000000"
            conn.send((at_line + "\n").encode())
            self.assertEqual(self.herd.wait_record("Bernard", client, at_line.encode()),
                             at_line.encode())

    def test_a_wrong_proof_closes_the_connection_and_writes_nothing(self):
        # Nothing sent after the proof is handled, even in the same packet: neither the AT
        # line nor the IAMAT gets a reply or stores a record.
        client = fixtures.unique("forged")
        other = fixtures.unique("after-proof")
        with Connection(self.herd.port("Bernard")) as conn:
            self.impostor_hello(conn, "Jaquez")
            conn.send(f"PROOF {'0' * 64}\nAT Jaquez +0.000000001 {client} +1+2 1700000000\n"
                      f"IAMAT {other} +1+2 1700000000\n".encode())
            self.assertEqual(conn.read_to_eof(), b"")
        for client_id in (client, other):
            self.assertEqual(self.herd.whatsat("Bernard", client_id),
                             f"? WHATSAT {client_id} 10 1\n".encode())
        self.assertIn(b"failed to authenticate as neighbour Jaquez",
                      self.herd.log_path("Bernard").read_bytes())

    def test_a_hello_without_authentication_closes_the_connection(self):
        client = fixtures.unique("unauth")
        with Connection(self.herd.port("Bernard")) as conn:
            conn.send(f"HERD Jaquez\nAT Jaquez +0.000000001 {client} +1+2 1700000000\n".encode())
            self.assertEqual(conn.read_to_eof(), b"")
        self.assertEqual(self.herd.whatsat("Bernard", client), f"? WHATSAT {client} 10 1\n".encode())

    def test_an_at_line_before_the_proof_is_invalid(self):
        client = fixtures.unique("early")
        with Connection(self.herd.port("Bernard")) as conn:
            self.impostor_hello(conn, "Jaquez")
            line = f"AT Jaquez +0.000000001 {client} +1+2 1700000000"
            conn.send((line + "\n").encode())
            self.assertEqual(conn.read_line(), f"? {line}\n".encode())

    def test_the_secret_appears_in_no_log_output_or_command_line(self):
        self.herd.iamat("Clark", fixtures.unique("quiet"))
        self.assertNotIn(self.secret.encode(), self.herd.all_output())
        for name in herd_mod.NAMES:
            cmdline = pathlib_read(f"/proc/{self.herd.procs[name].pid}/cmdline")
            self.assertNotIn(self.secret.encode(), cmdline)


def pathlib_read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


class MismatchedSecretTest(fixtures.FreshHerdTestCase):
    def test_servers_with_another_secret_do_not_link(self):
        self.config.names = ["Clark", "Jaquez"]
        self.config.links = {"Clark": ["Jaquez"], "Jaquez": ["Clark"]}
        self.config.sections["links"] = {"secret_env": f'"{SECRET_ENV}"'}
        self.config.write()
        self.config.extra_env[SECRET_ENV] = "one secret"
        self.herd.start("Clark")
        self.config.extra_env[SECRET_ENV] = "another secret"
        self.herd.start("Jaquez")
        client = fixtures.unique("split")
        self.herd.iamat("Clark", client)
        deadline = time.monotonic() + 10
        log = self.herd.log_path("Jaquez")
        while b"does not hold the link secret" not in log.read_bytes():
            self.assertLess(time.monotonic(), deadline, "Jaquez never refused Clark's proof")
            time.sleep(0.05)
        self.assertEqual(self.herd.whatsat("Jaquez", client), f"? WHATSAT {client} 10 1\n".encode())


class ListeningBeyondLoopbackTest(fixtures.FreshHerdTestCase):
    def serve(self) -> subprocess.CompletedProcess:
        self.config.names = ["Clark"]
        self.config.links = {"Clark": []}
        self.config.host = "0.0.0.0"
        self.config.write()
        proc = herd_mod.start_process(self.config.serve_command("Clark"), self.config.workdir,
                                      "Clark", self.config.environment())
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            herd_mod.reap(proc, signal.SIGTERM)
            return None
        herd_mod.reap(proc)
        return proc

    def test_refuses_to_start_without_a_secret(self):
        proc = self.serve()
        self.assertIsNotNone(proc, "Clark started on 0.0.0.0 without a link secret")
        self.assertEqual(proc.returncode, 2)
        stderr = (self.config.workdir / "Clark.stderr").read_text()
        self.assertIn("herd.toml: links: Clark listens on 0.0.0.0, beyond loopback", stderr)

    def test_starts_when_links_are_declared_unauthenticated(self):
        self.config.sections["links"] = {"unauthenticated": "true"}
        self.assertIsNone(self.serve(), "Clark did not keep running")


class ConnectionLimitsTest(fixtures.FreshHerdTestCase):
    def start(self, **limits):
        self.config.sections["limits"] = {k: str(v) for k, v in limits.items()}
        self.config.write()
        self.herd.start_all()

    def test_connections_past_the_cap_are_refused_at_once(self):
        self.start(max_connections=8)
        port = self.herd.port("Clark")
        # Neighbour links hold some of Clark's connections; fill the rest.
        held = []
        try:
            refused = None
            for _ in range(9):
                conn = Connection(port)
                held.append(conn)
                try:
                    conn.send(b"WHATSAT nobody-here 1 1\n")
                    self.assertEqual(conn.read_line(timeout=10), b"? WHATSAT nobody-here 1 1\n")
                except (ReplyTimeout, ConnectionResetError, BrokenPipeError):
                    refused = conn
                    break
            self.assertIsNotNone(refused, "nine connections were accepted")
            self.assertTrue(closed_by_server(refused))
            self.assertIn(b"connection refused: 8 connections open",
                          self.herd.log_path("Clark").read_bytes())
            self.assertTrue(held[0].sock.send(b"IAMAT x +1+2 1\n") > 0)
            self.assertTrue(held[0].read_line().startswith(b"AT Clark "))
        finally:
            for conn in held:
                conn.close()
        # Once connections close, new ones are served again.
        deadline = time.monotonic() + 5
        while True:
            with Connection(port) as conn:
                conn.send(b"IAMAT y +1+2 1\n")
                try:
                    if conn.read_line(timeout=1).startswith(b"AT Clark "):
                        break
                except AssertionError:
                    pass
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)

    def test_a_client_that_never_reads_is_disconnected_and_others_are_served(self):
        self.start(write_timeout_ms=1000, requests_per_second=0)
        port = self.herd.port("Clark")
        # Large replies fill the kernel's buffers soon: WHATSATs, each answered with places.
        self.herd.iamat("Clark", "hog")
        hog = socket.create_connection(("127.0.0.1", port))
        hog.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        line = b"WHATSAT hog 10 20\n"
        stop = threading.Event()
        outcome = {}

        def flood():
            hog.settimeout(20)
            try:
                while not stop.is_set():
                    hog.sendall(line * 100)
            except OSError as error:
                outcome["error"] = error

        thread = threading.Thread(target=flood)
        thread.start()
        try:
            for i in range(5):
                reply = self.herd.iamat("Clark", f"polite-{i}")
                self.assertTrue(reply.startswith(b"AT Clark "), reply)
            thread.join(timeout=30)
            self.assertFalse(thread.is_alive(), "the server never disconnected the client")
            self.assertIn("error", outcome)
        finally:
            stop.set()
            hog.close()
            thread.join(timeout=5)
        self.assertIn(b"took no reply for 1000 ms", self.herd.log_path("Clark").read_bytes())

    def test_idle_and_dribbling_clients_are_closed(self):
        self.start(idle_timeout_ms=500)
        port = self.herd.port("Clark")
        with Connection(port) as idle:
            self.assertTrue(closed_by_server(idle, timeout=10))
        # An unfinished line is not a line: closed for idleness, it is dropped unanswered,
        # however complete it looks.
        unfinished_id = fixtures.unique("unfinished")
        with Connection(port) as unfinished:
            unfinished.send(f"IAMAT {unfinished_id} +1+2 1700000000".encode())
            self.assertEqual(unfinished.read_to_eof(timeout=10), b"")
        self.assertIsNone(self.herd.record("Clark", unfinished_id))
        with Connection(port) as dribbler:
            dribbler.sock.settimeout(10)
            deadline = time.monotonic() + 10
            closed = False
            while time.monotonic() < deadline and not closed:
                try:
                    dribbler.sock.send(b"I")
                    time.sleep(0.1)
                    dribbler.sock.setblocking(False)
                    try:
                        closed = dribbler.sock.recv(1) == b""
                    except BlockingIOError:
                        pass
                    finally:
                        dribbler.sock.setblocking(True)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
            self.assertTrue(closed, "a client sending one byte at a time was never closed")
        # A client that completes lines in time keeps its connection.
        with Connection(port) as busy:
            for i in range(6):
                busy.send(f"IAMAT busy +1+2 {1700000000 + i}\n".encode())
                self.assertTrue(busy.read_line().startswith(b"AT Clark "))
                time.sleep(0.2)

    def test_client_ids_and_records_are_capped(self):
        self.start(max_client_id=40, max_records=8)
        port = self.herd.port("Clark")
        with Connection(port) as conn:
            ok = "a" * 40
            conn.send(f"IAMAT {ok} +1+2 1700000000\n".encode())
            self.assertTrue(conn.read_line().startswith(f"AT Clark ".encode()))
            long_line = f"IAMAT {'b' * 41} +1+2 1700000000"
            conn.send((long_line + "\n").encode())
            self.assertEqual(conn.read_line(), f"? {long_line}\n".encode())
            # The herd's readiness probes already hold some records: fill up to the cap.
            answers = []
            for i in range(10):
                line = f"IAMAT cap-{i} +1+2 1700000000"
                conn.send((line + "\n").encode())
                answers.append((line, conn.read_line()))
            refused = [line for line, reply in answers if reply == f"? {line}\n".encode()]
            stored = [line for line, reply in answers if reply.startswith(b"AT Clark ")]
            self.assertTrue(refused, "the record store was never full")
            self.assertEqual(len(refused) + len(stored), 10)
            # Known clients may still update their record.
            conn.send(f"IAMAT {ok} +1+2 1700000001\n".encode())
            self.assertTrue(conn.read_line().startswith(b"AT Clark "))

    def test_a_fast_client_is_paced_not_refused(self):
        self.start(requests_per_second=20, request_burst=5)
        lines = [f"IAMAT paced +1+2 {1700000000 + i}\n".encode() for i in range(25)]
        started = time.monotonic()
        with Connection(self.herd.port("Clark"), timeout=20) as conn:
            conn.send(b"".join(lines))
            replies = [conn.read_line() for _ in lines]
        elapsed = time.monotonic() - started
        for line, reply in zip(lines, replies):
            self.assertTrue(reply.startswith(b"AT Clark "), reply)
            self.assertTrue(reply.endswith(line[len(b"IAMAT "):]), reply)
        # 20 lines past a burst of 5, at 20 a second: not before about a second.
        self.assertGreaterEqual(elapsed, 0.8)


class WhatsatLimitsTest(fixtures.FreshHerdTestCase):
    timeout_ms = fixtures.HELD_CALLS_TIMEOUT_MS

    def test_whatsats_past_the_server_cap_get_over_query_limit(self):
        self.config.sections["limits"] = {"max_whatsat_per_server": "2"}
        self.config.write()
        self.herd.start_all()
        release = threading.Event()
        self.addCleanup(release.set)
        self.upstream.route(up.held(env.sample(fixtures.DEFAULT_BODY), release), location="7,7")
        client = fixtures.unique("capped")
        self.herd.iamat("Clark", client, "+7+7")
        # The herd's start-up probes asked upstream too; only the waiting WHATSATs count.
        # Their radii differ, so that each makes its own call rather than sharing one, and
        # two calls seen upstream mean the server has counted both.
        self.upstream.reset_log()
        waiting = [Connection(self.herd.port("Clark")) for _ in range(2)]
        try:
            for radius, conn in zip((10, 11), waiting):
                conn.send(f"WHATSAT {client} {radius} 1\n".encode())
            self.assertEqual(len(self.upstream.wait_for_requests(2, 30)), 2)
            with Connection(self.herd.port("Clark")) as third:
                third.send(f"WHATSAT {client} 10 1\n".encode())
                reply = third.read_whatsat(timeout=5)
            self.assertIn(b'"status" : "OVER_QUERY_LIMIT"', reply)
            self.assertIn(b"too many WHATSAT queries are waiting", reply)
            release.set()
            for conn in waiting:
                self.assertIn(b'"status" : "OK"', conn.read_whatsat())
        finally:
            for conn in waiting:
                conn.close()


class WhatsatPerConnectionTest(fixtures.FreshHerdTestCase):
    timeout_ms = fixtures.HELD_CALLS_TIMEOUT_MS

    def test_a_connection_past_its_cap_waits_instead_of_failing(self):
        # With one WHATSAT allowed per connection and per server, a second WHATSAT read at
        # once would be declined; the per-connection cap keeps it unread until the first
        # is answered, so both get their places.
        self.config.sections["limits"] = {"max_whatsat_per_connection": "1",
                                          "max_whatsat_per_server": "1"}
        self.config.write()
        self.herd.start_all()
        release = threading.Event()
        self.addCleanup(release.set)
        self.upstream.route(up.held(env.sample(fixtures.DEFAULT_BODY), release), location="8,8")
        client = fixtures.unique("one-at-a-time")
        self.herd.iamat("Clark", client, "+8+8")
        self.upstream.reset_log()
        with Connection(self.herd.port("Clark")) as conn:
            conn.send(f"WHATSAT {client} 10 1\nWHATSAT {client} 5 1\n".encode())
            self.assertEqual(len(self.upstream.wait_for_requests(1, 30)), 1)
            release.set()
            for _ in range(2):
                self.assertIn(b'"status" : "OK"', conn.read_whatsat())


class OutOfDescriptorsTest(fixtures.FreshHerdTestCase):
    def test_the_accept_loop_survives_running_out_of_file_descriptors(self):
        self.config.names = ["Clark"]
        self.config.links = {"Clark": []}
        self.config.write()
        limit = 48

        def low_descriptor_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

        environment = {**os.environ, **self.config.environment()}
        stderr = self.config.workdir / "Clark.stderr"
        with open(stderr, "wb") as err:
            proc = subprocess.Popen(
                self.config.serve_command("Clark"), cwd=self.config.workdir, env=environment,
                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=low_descriptor_limit)
        self.addCleanup(herd_mod.reap, proc, signal.SIGKILL)
        port = self.herd.port("Clark")
        deadline = time.monotonic() + 10
        while not herd_mod.port_accepts(port):
            self.assertIsNone(proc.poll(), "Clark exited")
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        hogs = [socket.create_connection(("127.0.0.1", port)) for _ in range(limit + 16)]
        try:
            log = self.herd.log_path("Clark")
            while b"accept failed: Too many open files" not in log.read_bytes():
                self.assertLess(time.monotonic(), deadline + 10, "descriptors never ran out")
                time.sleep(0.05)
        finally:
            for hog in hogs:
                hog.close()
        self.assertIsNone(proc.poll(), "Clark died when it ran out of descriptors")
        deadline = time.monotonic() + 10
        while True:
            try:
                reply = self.herd.iamat("Clark", fixtures.unique("after"))
                if reply.startswith(b"AT Clark "):
                    break
            except (AssertionError, OSError):
                pass
            self.assertLess(time.monotonic(), deadline, "Clark never served again")
            time.sleep(0.1)
        herd_mod.reap(proc, signal.SIGTERM)
        self.assertEqual(proc.returncode, 0, stderr.read_text())
        self.assertEqual(herd_mod.sanitizer_report(stderr.read_bytes()), "")


class OwnerOnlyFilesTest(fixtures.FreshHerdTestCase):
    """The data files hold every client's latest location, and the logs every line: a
    server makes what it creates readable by its user alone, whatever umask it was started
    with (docs/security.md)."""

    def start_clark(self, umask: int) -> None:
        previous = os.umask(umask)
        try:
            self.herd.start("Clark")
        finally:
            os.umask(previous)

    def test_directories_and_files_it_makes_are_its_users_alone(self):
        self.config.log_dir = self.tmp / "new-logs"   # neither it nor data_dir exists yet
        self.config.write()
        self.start_clark(0o022)
        client = fixtures.unique("private")
        self.herd.iamat("Clark", client)
        # A log reopened after rotation (SIGHUP) is a file made later, by another path.
        self.herd.log_path("Clark").rename(self.config.log_dir / "Clark.log.rotated")
        os.kill(self.herd.procs["Clark"].pid, signal.SIGHUP)
        self.herd.iamat("Clark", client)
        deadline = time.monotonic() + 5
        while not self.herd.log_path("Clark").exists():
            self.assertLess(time.monotonic(), deadline, "Clark.log was not reopened")
            time.sleep(0.05)

        modes = {}
        for top in (self.config.log_dir, self.config.data_dir):
            for path in [top, *top.rglob("*")]:
                modes[str(path.relative_to(self.tmp))] = stat.S_IMODE(path.stat().st_mode)
        for name in ("new-logs/Clark.log", "new-logs/Clark.log.rotated", "data/Clark.db",
                     "data/Clark.db-wal", "data/Clark.db.1", "data/Clark.db.1-wal"):
            self.assertIn(name, modes)
        expected = {name: 0o700 if (self.tmp / name).is_dir() else 0o600 for name in modes}
        self.assertEqual({name: oct(mode) for name, mode in modes.items()},
                         {name: oct(mode) for name, mode in expected.items()})

    def test_a_default_acl_shares_the_logs_as_docs_say(self):
        if os.geteuid() != 0:
            self.skipTest("reading as another user needs root")
        if shutil.which("setfacl") is None:
            self.skipTest("setfacl is not installed (Debian's acl; scripts/install-deps has it)")
        try:
            other = pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("this machine has no user nobody to read as")
        logs = self.config.log_dir
        shared = subprocess.run(["setfacl", "-m", f"u:{other.pw_uid}:x", str(self.tmp)],
                                capture_output=True, text=True)
        if shared.returncode != 0:
            self.skipTest(f"no ACLs on this file system: {shared.stderr.strip()}")
        subprocess.run(["setfacl", "-m", f"u:{other.pw_uid}:rX,d:u:{other.pw_uid}:rX",
                        str(logs)], check=True)
        self.start_clark(0o022)
        client = fixtures.unique("shared")
        self.herd.iamat("Clark", client)

        def read_as_other(path: pathlib.Path) -> subprocess.CompletedProcess:
            return subprocess.run(["setpriv", f"--reuid={other.pw_uid}",
                                   f"--regid={other.pw_gid}", "--clear-groups", "cat",
                                   str(path)], capture_output=True)

        read = read_as_other(self.herd.log_path("Clark"))
        self.assertEqual(read.returncode, 0, read.stderr)
        self.assertIn(client.encode(), read.stdout)
        self.assertNotEqual(read_as_other(self.herd.data_file("Clark")).returncode, 0,
                            "the data file is readable by another user")


class LogReopenTest(fixtures.FreshHerdTestCase):
    def test_sighup_reopens_the_log(self):
        self.herd.start_all()
        log = self.herd.log_path("Clark")
        moved = log.with_name("Clark.log.rotated")
        os.rename(log, moved)
        os.kill(self.herd.procs["Clark"].pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not log.exists():
            self.assertLess(time.monotonic(), deadline, "Clark.log was not reopened")
            time.sleep(0.05)
        client = fixtures.unique("reopened")
        self.herd.iamat("Clark", client)
        self.assertIn(client.encode(), log.read_bytes())
        self.assertNotIn(client.encode(), moved.read_bytes())


if __name__ == "__main__":
    unittest.main()
