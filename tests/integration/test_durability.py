"""Durable records and catch-up (README: [store]): an acknowledged update survives SIGKILL
of any server, a restarted server loads its records from its data file, and a server
whose file was lost or damaged gets every record back from its neighbours."""
import datetime
import itertools
import os
import random
import re
import signal
import sqlite3
import sys
import threading
import time
import unittest
from typing import Optional

from herdtest import at, fixtures, procs, records
from herdtest import client as herd_client
from herdtest import herd as herd_mod
from herdtest import upstream as upstream_mod

# Bounds, stated once. Generous: the suite also runs under ASan and TSan on two cores.
CONVERGE = 20.0      # after the load stops, until all five hold the same, newest records
RECOVER = 15.0       # a server with a lost or damaged file, until it holds every record
PROPAGATION = 10.0   # one record across the herd
REPLY = 5.0          # one AT reply under load; later than that counts as not acknowledged

LOAD_THREADS = 3
CLIENTS_PER_THREAD = 30   # 90 client IDs updated all along
LOAD_PAUSE = 0.01         # seconds between two IAMATs of a load thread: a steady stream,
                          # not a flood (logs and the sanitizer builds have to keep up)
LAST_WORD = 10            # client IDs updated, right before each SIGKILL, at the victim
ONLY_WORD = 5             # client IDs a server, right before its SIGKILL, hears of alone
MIN_ACKNOWLEDGED = 300    # the load must have made at least this many acknowledged updates
DATA_LINE = rb"data file (\S+?)(?::| did not exist| is damaged)"


def durable_config(config: herd_mod.HerdConfig, **settings: str) -> None:
    """[store] keys (TOML literals), always written, so a binary without [store] fails."""
    config.store_settings.update(settings)
    config.write()


def small_config(test: fixtures.FreshHerdTestCase, dirname: str, links: dict[str, list[str]],
                 **settings: str) -> herd_mod.HerdConfig:
    """A herd of the servers `links` names, each with those neighbours, in `test`'s
    directory `dirname`, with [store] `settings` (durable_config)."""
    workdir = test.tmp / dirname
    workdir.mkdir()
    config = herd_mod.HerdConfig(workdir, test.upstream.url, test.pki.ca_file,
                                 names=list(links), links=links)
    durable_config(config, **settings)
    return config


def solo_config(test: fixtures.FreshHerdTestCase, dirname: str,
                **settings: str) -> herd_mod.HerdConfig:
    """A herd of Clark alone, with no neighbour (small_config)."""
    return small_config(test, dirname, {"Clark": []}, **settings)


def clark_beside_jaquez(test: fixtures.FreshHerdTestCase,
                        threads: Optional[int] = None) -> herd_mod.Herd:
    """Clark, with Jaquez its one neighbour, started (with `threads` event-loop threads) in
    `test`'s directory "pair"; Jaquez is not: the test speaks for it (flood_as_jaquez)."""
    herd = herd_mod.Herd(small_config(test, "pair", {"Clark": ["Jaquez"], "Jaquez": ["Clark"]}))
    test.addCleanup(herd.close)
    herd.start("Clark", threads=threads)
    return herd


def flood_as_jaquez(test: unittest.TestCase, herd: herd_mod.Herd, prefix: str, count: int,
                    timeout: float) -> list[bytes]:
    """Sends Clark `count` AT lines over a link, as Jaquez floods them, for new clients
    `<prefix>-<i>`, and waits up to `timeout` seconds until Clark holds the last. Returns the
    lines, without their newlines."""
    when = herd_client.now_time()
    lines = [herd_client.at_line("Jaquez", f"{prefix}-{i}", "+34.068930-118.445127", when)
             for i in range(count)]
    with herd.connect("Clark") as link:
        link.send(b"HERD Jaquez\n")
        test.assertRegex(link.read_line(), rb"\ASINCE ")
        for first in range(0, count, 5_000):   # each send well within the socket's timeout
            link.send(b"".join(line + b"\n" for line in lines[first:first + 5_000]))
        last = f"{prefix}-{count - 1}"
        test.assertEqual(herd.wait_record("Clark", last, lines[-1], timeout), lines[-1])
    return lines


def whole_log(herd: herd_mod.Herd, name: str) -> bytes:
    """Server `name`'s log: the rotated files (`<name>.<n>.log`, the oldest n highest)
    first, then `<name>.log`."""
    path = herd.log_path(name)
    rotated = {}
    for old in path.parent.glob(f"{name}.*.log"):
        index = old.name[len(name) + 1:-len(".log")]
        if index.isdigit():
            rotated[int(index)] = old
    data = b""
    for old in [rotated[i] for i in sorted(rotated, reverse=True)] + [path]:
        try:
            data += old.read_bytes()
        except FileNotFoundError:   # rotated away while reading
            pass
    return data


def logged_at(line: bytes) -> float:
    """The POSIX time of a log line, from its UTC timestamp."""
    stamp = line.split(b" ", 1)[0].decode().rstrip("Z")
    return datetime.datetime.fromisoformat(stamp).replace(
        tzinfo=datetime.timezone.utc).timestamp()


def data_lines(herd: herd_mod.Herd, name: str, since: float = 0.0) -> list[bytes]:
    """The `data file ...` lines of server `name`'s log logged at POSIX time `since` or
    later, oldest first."""
    return [line for line in whole_log(herd, name).split(b"\n")
            if re.search(DATA_LINE, line) and logged_at(line) >= since]


def wait_data_line(test: unittest.TestCase, herd: herd_mod.Herd, name: str, since: float) -> bytes:
    """The one `data file` line server `name` logs when it starts (at `since` or later)."""
    deadline = time.monotonic() + 5
    while True:
        lines = data_lines(herd, name, since)
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    test.assertEqual(len(lines), 1, f"{name} should log one `data file` line at start; "
                     f"found {lines!r}")
    return lines[0]


def remove_data_file(herd: herd_mod.Herd, name: str) -> None:
    """Removes the anchor, and leaves the generations it named."""
    path = herd.data_file(name)
    for extra in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + extra).unlink(missing_ok=True)


class LoadTest(fixtures.FreshHerdTestCase):
    """IAMATs in a steady stream to every server while each server in turn is killed with
    SIGKILL and restarted: no acknowledged update is lost, and the herd converges."""

    def setUp(self):
        super().setUp()
        # A short places answer: the many WHATSATs that read records log less.
        self.upstream.set_default(upstream_mod.body(upstream_mod.status_body("ZERO_RESULTS")))
        durable_config(self.config, durability='"written"')
        self.herd.start_all()
        self.lock = threading.Lock()
        self.stop_load = threading.Event()
        self.acked: dict[str, bytes] = {}          # client: newest acknowledged AT line
        self.sent: dict[str, set[bytes]] = {}      # client: every echo sent for it
        self.acks_by_server = {name: 0 for name in self.config.names}
        self.failures = 0
        self.errors: list[str] = []

    def load(self, index: int, clients: list[str]) -> None:
        names = self.config.names
        conns: dict[str, herd_client.Connection] = {}
        last_ns = {c: 0 for c in clients}
        n = 0
        try:
            while not self.stop_load.is_set():
                client = clients[n % len(clients)]
                # Each round over the clients shifts the servers by one, so every client's
                # updates go to every server in turn.
                server = names[(n + n // len(clients) + index) % len(names)]
                n += 1
                client_ns = max(time.time_ns(), last_ns[client] + 1)
                last_ns[client] = client_ns
                location = f"+{n % 89}.{n % 997:03d}-{n % 179}.{index}"
                client_time = f"{client_ns // 10**9}.{client_ns % 10**9:09d}"
                echo = f"{client} {location} {client_time}".encode()
                with self.lock:
                    self.sent[client].add(echo)
                try:
                    conn = conns.get(server)
                    if conn is None:
                        conn = conns[server] = self.herd.connect(server, timeout=REPLY)
                    conn.send(b"IAMAT " + echo + b"\n")
                    reply = conn.read_line(REPLY)[:-1]
                except (OSError, herd_client.ReplyTimeout):
                    # A server that is down or dying: not acknowledged, just counted.
                    dead = conns.pop(server, None)
                    if dead is not None:
                        dead.close()
                    with self.lock:
                        self.failures += 1
                    time.sleep(0.01)
                    continue
                parsed = at.parse(reply)
                if parsed.server != server.encode() or parsed.echo != echo:
                    with self.lock:
                        self.errors.append(f"IAMAT {echo!r} to {server} answered {reply!r}")
                    continue
                with self.lock:
                    self.acked[client] = reply
                    self.acks_by_server[server] += 1
                time.sleep(LOAD_PAUSE)
        except Exception as error:  # pragma: no cover - reported by the test
            with self.lock:
                self.errors.append(f"load thread {index}: {error!r}")
        finally:
            for conn in conns.values():
                conn.close()

    def burst(self, server: str, clients: list[str]) -> None:
        """One IAMAT for each of `clients` to `server`, pipelined on one connection; every
        one must be acknowledged (the server is up)."""
        echoes = []
        for i, client in enumerate(clients):
            echoes.append(f"{client} -{i % 89}.25+{i % 179}.75 {herd_client.now_time()}".encode())
        with self.lock:
            for client, echo in zip(clients, echoes):
                self.sent.setdefault(client, set()).add(echo)
        with self.herd.connect(server, timeout=REPLY) as conn:
            conn.send(b"".join(b"IAMAT " + echo + b"\n" for echo in echoes))
            replies = [conn.read_line()[:-1] for _ in echoes]
        for client, echo, reply in zip(clients, echoes, replies):
            self.assertEqual(at.parse(reply).echo, echo, reply)
        with self.lock:
            for client, reply in zip(clients, replies):
                self.acked[client] = reply
            self.acks_by_server[server] += len(replies)

    def acks(self, server: Optional[str] = None) -> int:
        with self.lock:
            return sum(self.acks_by_server.values()) if server is None else self.acks_by_server[server]

    def wait_acks(self, server: Optional[str], more: int, timeout: float) -> bool:
        """Waits until `more` updates more are acknowledged (by `server`, or by any)."""
        target = self.acks(server) + more
        deadline = time.monotonic() + timeout
        while self.acks(server) < target:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def test_acknowledged_updates_survive_sigkill_of_every_server(self):
        """Besides the steady stream, right before each SIGKILL the victim acknowledges an
        update of LAST_WORD clients (each such update the newest of its client until the
        next SIGKILL), and the first and only update of ONLY_WORD clients of its own: a
        record the victim may have held alone when it died."""
        names = self.config.names
        token = fixtures.unique("k")
        last_word = [f"last{i}-{token}" for i in range(LAST_WORD)]
        groups = [[f"load{t}-{i}-{token}" for i in range(CLIENTS_PER_THREAD)]
                  for t in range(LOAD_THREADS)]
        for group in groups:
            for client in group:
                self.sent[client] = set()
        threads = [threading.Thread(target=self.load, args=(t, group), daemon=True)
                   for t, group in enumerate(groups)]
        self.addCleanup(lambda: [thread.join(10) for thread in threads])
        self.addCleanup(self.stop_load.set)
        for thread in threads:
            thread.start()

        killed = {}
        rng = random.Random(token)
        self.assertTrue(self.wait_acks(None, 50, 15), "the load never got going")
        for name in names:
            self.burst(name, last_word + [f"only{i}-{name}-{token}" for i in range(ONLY_WORD)])
            self.herd.kill(name)
            killed[name] = self.herd.procs[name].returncode
            time.sleep(rng.uniform(0.5, 1.0))   # down for a while; the load goes on
            self.herd.start(name)
            # Back in service: it acknowledges updates again before the next one dies.
            self.assertTrue(self.wait_acks(name, 10, 15),
                            f"{name} acknowledged nothing within 15 s of its restart")
            self.assertTrue(self.wait_acks(None, 50, 15), "the load stalled")
            time.sleep(rng.uniform(0.2, 0.6))   # up for a while before the next SIGKILL
        self.stop_load.set()
        for thread in threads:
            thread.join(REPLY * 3)
            self.assertFalse(thread.is_alive(), "a load thread did not stop")
        acks = self.acks()
        with self.lock:
            acked = dict(self.acked)
            sent = {c: set(echoes) for c, echoes in self.sent.items()}
            failures, errors = self.failures, list(self.errors)
        print(f"\n  load: {acks} updates acknowledged ({self.acks_by_server}), "
              f"{failures} failed while a server was down", file=sys.stderr)
        self.assertEqual(errors, [])
        self.assertEqual(killed, {name: -signal.SIGKILL for name in names},
                         "every server should have been ended by the test's SIGKILL")
        self.assertGreater(acks, MIN_ACKNOWLEDGED, "too few acknowledged updates to mean much")
        self.assertEqual(sorted(acked), sorted(sent), "a client never got an acknowledged update")

        clients = sorted(sent)
        problems, took, snap = records.wait_until(
            self.herd, names, clients, lambda s: records.agreement_problems(s, acked), CONVERGE)
        print(f"  converged in {took:.2f} s after the load stopped", file=sys.stderr)
        records.assert_none(self, problems, f"not converged within {CONVERGE} s, or an "
                            "acknowledged update lost")
        # Record by record: identical everywhere, at least the acknowledged one, and one
        # that this test sent.
        final = {client: snap[names[0]][client] for client in clients}
        records.assert_none(self, records.exact_problems(snap, final), "servers differ")
        lost = [f"{c}: acknowledged {acked[c]!r}, held {final[c]!r}" for c in clients
                if not records.at_least(final[c], acked[c])]
        self.assertEqual(lost, [], "acknowledged updates lost:\n" + "\n".join(lost))
        strange = [f"{c}: {final[c]!r}" for c in clients if at.parse(final[c]).echo not in sent[c]]
        self.assertEqual(strange, [], "records that no IAMAT made:\n" + "\n".join(strange))

        # Every server opened its data file again after its SIGKILL: no damage, one more
        # boot.
        for name in names:
            lines = data_lines(self.herd, name)
            self.assertEqual(len(lines), 2, (name, lines))
            self.assertNotIn(b"damaged", lines[1], name)
            self.assertNotIn(b"did not exist", lines[1], name)
            self.assertIn(str(self.herd.data_file(name)).encode(), lines[1], name)
            self.assertIn(b"did not exist; created it, empty", lines[0], name)
            self.assertRegex(lines[1], rb"store [0-9a-f]{16}, boot 2\b", name)


class SigkillAroundSnapshotsTest(fixtures.FreshHerdTestCase):
    """A server whose clients keep reporting makes a snapshot every 100,000 changes or so: a
    new generation file, the store written into it, then the older files deleted
    (docs/durability.md). Killed with SIGKILL as a new generation appears, a little later
    each time, it comes back with every update it acknowledged, and nothing it never got."""

    CLIENTS = 2000
    CHUNK = 500                                # IAMATs sent before their replies are read
    KILL_AFTER_S = (0.0, 0.002, 0.005, 0.01, 0.05)   # after the new generation appears
    MORE_KILLS = 5   # at once, while none has cut a snapshot (a busy machine was slow)

    def test_acknowledged_updates_survive_sigkill_around_snapshots(self):
        self.upstream.set_default(upstream_mod.body(upstream_mod.status_body("ZERO_RESULTS")))
        config = solo_config(self, "snapshots")
        config.sections["limits"] = {"requests_per_second": "0"}   # a load, not a client
        config.write()
        herd = herd_mod.Herd(config)
        self.addCleanup(herd.close)
        herd.start("Clark")
        token = fixtures.unique("g")
        clients = [f"gen{i}-{token}" for i in range(self.CLIENTS)]
        acked: dict[str, bytes] = {}
        sent: dict[str, set[bytes]] = {client: set() for client in clients}
        lock = threading.Lock()
        count = [0]
        errors: list[str] = []

        def load(stop: threading.Event) -> None:
            """IAMATs for every client in turn, in chunks, until the connection dies."""
            try:
                with herd.connect("Clark", timeout=REPLY) as conn:
                    while not stop.is_set():
                        echoes = []
                        for _ in range(self.CHUNK):
                            count[0] += 1
                            n = count[0]
                            client = clients[n % self.CLIENTS]
                            when = time.time_ns() + n   # later than any before, per client
                            echoes.append(f"{client} +{n % 89}.{n % 997:03d}-{n % 179}.5 "
                                          f"{when // 10**9}.{when % 10**9:09d}".encode())
                        with lock:
                            for echo in echoes:
                                sent[echo.split(b" ")[0].decode()].add(echo)
                        conn.send(b"".join(b"IAMAT " + echo + b"\n" for echo in echoes))
                        for echo in echoes:
                            reply = conn.read_line(REPLY)[:-1]
                            with lock:
                                if at.parse(reply).echo != echo:
                                    errors.append(f"IAMAT {echo!r} answered {reply!r}")
                                    return
                                acked[echo.split(b" ")[0].decode()] = reply
            except (OSError, herd_client.ReplyTimeout):
                pass   # the SIGKILL: what was not answered was not acknowledged

        reports = []
        left = []   # generation files that each SIGKILL left: two or more when it cut one
        for delay in itertools.chain(self.KILL_AFTER_S, itertools.repeat(0.0, self.MORE_KILLS)):
            # The test's premise: some kill cut a snapshot (the files it replaces were still
            # there). Between the new file's appearing and the old ones' deletion a snapshot
            # syncs three times (the new file, its records, the anchor), which a fast disk
            # can finish before a test thread that a busy machine held back gets to the kill.
            if len(left) >= len(self.KILL_AFTER_S) and max(left) >= 2:
                break
            newest = herd.generation_files("Clark")[-1]
            stop = threading.Event()
            sender = threading.Thread(target=load, args=(stop,), daemon=True)
            sender.start()
            deadline = time.monotonic() + 60
            while herd.generation_files("Clark")[-1] == newest:
                self.assertLess(time.monotonic(), deadline,
                                f"no snapshot began within 60 s ({count[0]} IAMATs sent)")
                self.assertTrue(sender.is_alive(), "the load stopped")
                time.sleep(0.0005)
            time.sleep(delay)
            herd.kill("Clark")
            left.append(len(herd.generation_files("Clark")))
            stop.set()
            sender.join(REPLY * 2)
            self.assertFalse(sender.is_alive(), "the load did not stop")
            since = time.time()
            herd.start("Clark")
            reports.append(wait_data_line(self, herd, "Clark", since))
            self.check_held(herd, clients, acked, sent)

        self.assertEqual(errors, [])
        self.assertEqual(len(acked), self.CLIENTS, "a client never got an acknowledged update")
        self.assertGreaterEqual(max(left), 2, f"no SIGKILL found a snapshot under way: {left}")
        for report in reports:
            self.assertRegex(report, rb": \d+ records and 0 neighbour cursors, store ", report)
        print(f"\n  {count[0]} IAMATs sent; generation files left by each SIGKILL: {left}",
              file=sys.stderr)

    def check_held(self, herd: herd_mod.Herd, clients: list[str], acked: dict[str, bytes],
                   sent: dict[str, set[bytes]]) -> None:
        """Clark, just restarted, holds for each client the update it acknowledged last, or
        a later one that the test sent."""
        held = herd.records("Clark", clients)
        lost = [f"{c}: acknowledged {acked[c]!r}, held {held[c]!r}" for c in clients
                if c in acked and not records.at_least(held[c], acked[c])]
        strange = [f"{c}: {held[c]!r}" for c in clients
                   if held[c] is not None and at.parse(held[c]).echo not in sent[c]]
        self.assertEqual(lost, [], "acknowledged updates lost:\n" + "\n".join(lost[:20]))
        self.assertEqual(strange, [], "records that no IAMAT made:\n" + "\n".join(strange[:20]))


class AloneAfterSigkillTest(fixtures.FreshHerdTestCase):
    """A server killed with SIGKILL and restarted with no neighbour up serves its records
    from its file, byte for byte."""

    def solo_herd(self, **settings: str) -> herd_mod.Herd:
        herd = herd_mod.Herd(solo_config(self, "solo", **settings))
        self.addCleanup(herd.close)
        herd.start("Clark")
        return herd

    def test_one_server_herd(self):
        herd = self.solo_herd()
        client_id = fixtures.unique("solo")
        line = herd.iamat("Clark", client_id)
        self.assertEqual(at.parse(line).server, b"Clark")
        herd.kill("Clark")
        self.assertEqual(herd.procs["Clark"].returncode, -signal.SIGKILL)
        self.assertTrue(herd.data_file("Clark").exists(), herd.data_file("Clark"))
        since = time.time()
        herd.start("Clark")
        self.assertEqual(herd.record("Clark", client_id), line)
        reply = herd.whatsat("Clark", client_id, "10", 1)
        self.assertTrue(reply.startswith(line + b"\n{"), reply[:300])
        report = wait_data_line(self, herd, "Clark", since)
        self.assertIn(str(herd.data_file("Clark")).encode() + b": ", report)

    def test_second_server_on_the_same_data_file_is_refused(self):
        """One server a data file: a second process given the same name and store.dir (on
        another port) exits at once, naming the file, and the first serves on, its records
        intact."""
        herd = self.solo_herd()
        client_id = fixtures.unique("first")
        line = herd.iamat("Clark", client_id)
        config = solo_config(self, "second")
        config.data_dir = herd.config.data_dir
        config.write()
        started = time.monotonic()
        second = herd_mod.run_to_exit(config, config.serve_command("Clark"), timeout=60)
        refused_after = time.monotonic() - started
        self.assertEqual(second.returncode, 2, second)
        # At once, not after SQLite's busy timeout of 5 s: the lock is held until the
        # first server exits.
        self.assertLess(refused_after, 4.5)
        self.assertIn(f"cannot use data file {herd.data_file('Clark')}: database is locked "
                      "(another process has it".encode(), second.stderr)
        self.assertTrue(herd.running("Clark"))
        self.assertEqual(herd.record("Clark", client_id), line)
        self.assertEqual(at.parse(herd.iamat("Clark", client_id, "+1.000000+2.000000")).server,
                         b"Clark")

    def test_neighbours_down_then_back(self):
        """Clark alone holds records (its neighbours stopped); SIGKILL, restart alone: they
        are there; the neighbours come back and catch up from Clark."""
        durable_config(self.config)
        self.herd.start_all()
        for name in self.config.names:
            if name != "Clark":
                self.herd.stop(name)
        lines = {}
        for i in range(5):
            client_id = fixtures.unique(f"alone{i}")
            lines[client_id] = self.herd.iamat("Clark", client_id, f"+{i}+{i}")
        self.herd.kill("Clark")
        self.herd.start("Clark")
        for client_id, line in lines.items():
            self.assertEqual(self.herd.record("Clark", client_id), line, client_id)
        for name in self.config.names:
            if name != "Clark":
                self.herd.start(name, wait=False)
        for name in self.config.names:
            self.herd.wait_port(name)
        records.wait_for_exactly(self, self.herd, self.config.names, lines, RECOVER,
                                 f"records held only by Clark did not reach the "
                                 f"herd within {RECOVER} s")


class LostDataFileTest(fixtures.FreshHerdTestCase):
    """Clark's data file is lost or damaged while it is stopped: it starts anyway, says so,
    and its neighbours send it every record."""

    def setUp(self):
        super().setUp()
        durable_config(self.config)
        self.herd.start_all()
        # Records from every server, everywhere, before Clark stops.
        self.expected: dict[str, bytes] = {}
        for i, origin in enumerate(self.config.names * 2):
            client_id = fixtures.unique(f"before{i}-{origin}")
            self.expected[client_id] = self.herd.iamat(origin, client_id, f"+{i}.5-{i}.25")
        records.wait_for_exactly(self, self.herd, self.config.names, self.expected, PROPAGATION,
                                 "records did not cross the herd")

    def restart_and_recover(self) -> bytes:
        """Starts Clark; returns its `data file` line once it holds every record."""
        # One record more while Clark is down, so it also needs what it missed.
        client_id = fixtures.unique("while-down")
        self.expected[client_id] = self.herd.iamat("Johnson", client_id, "+1+1")
        since = time.time()
        started = time.monotonic()
        self.herd.start("Clark")
        report = wait_data_line(self, self.herd, "Clark", since)
        records.wait_for_exactly(self, self.herd, self.config.names, self.expected, RECOVER,
                                 f"Clark did not get every record back within {RECOVER} s")
        print(f"\n  Clark recovered {len(self.expected)} records in "
              f"{time.monotonic() - started:.2f} s", file=sys.stderr)
        return report

    def test_missing_data_file(self):
        self.herd.stop("Clark")
        path = self.herd.data_file("Clark")
        self.assertTrue(path.exists(), path)
        generations = self.herd.generation_files("Clark")
        self.assertTrue(generations, "no generation files")
        remove_data_file(self.herd, "Clark")
        report = self.restart_and_recover()
        self.assertIn(f"data file {path} did not exist; created it, empty".encode(), report)
        # The generations it named are not the new store's: moved aside, not deleted.
        self.assertIn(f"(moved the leftover {generations[0]} to ".encode(), report)
        self.assertTrue(path.exists(), f"{path} not made again")

    def test_damaged_data_file(self):
        self.herd.stop("Clark")
        path = self.herd.data_file("Clark")
        self.assertTrue(path.exists(), path)
        remove_data_file(self.herd, "Clark")
        garbage = b"this is no SQLite database\n" + random.Random(7).randbytes(64 * 1024)
        path.write_bytes(garbage)
        report = self.restart_and_recover()
        match = re.search(rb"data file " + re.escape(str(path).encode()) +
                          rb" is damaged \((.+)\); moved it to (\S+) with the files beside it"
                          rb" and started empty", report)
        self.assertIsNotNone(match, report)
        moved = match.group(2).decode()
        self.assertRegex(moved, "^" + re.escape(str(path)) + r"\.damaged-\d+$")
        with open(moved, "rb") as kept:
            self.assertEqual(kept.read(), garbage, "the damaged file was not kept as it was")
        self.assertTrue(path.exists(), f"{path} not made again")
        self.assertNotEqual(path.read_bytes()[:len(garbage)], garbage)

    def test_damaged_generation(self):
        """The records are in the generation files: one damaged, and the store that needs
        it is moved aside whole, anchor and all."""
        self.herd.stop("Clark")
        path = self.herd.data_file("Clark")
        newest = self.herd.generation_files("Clark")[-1]
        newest.with_name(newest.name + "-wal").unlink(missing_ok=True)
        garbage = b"this is no SQLite database either\n" * 2000
        newest.write_bytes(garbage)
        report = self.restart_and_recover()
        match = re.search(rb"data file " + re.escape(str(path).encode()) +
                          rb" is damaged \(" + re.escape(str(newest).encode()) +
                          rb": file is not a database\); moved it to (\S+) with the files"
                          rb" beside it and started empty", report)
        self.assertIsNotNone(match, report)
        moved = match.group(1).decode() + newest.name[len(path.name):]
        with open(moved, "rb") as kept:
            self.assertEqual(kept.read(), garbage, "the damaged generation was not kept as it was")


class DurabilityModesTest(fixtures.FreshHerdTestCase):
    def test_synced_keeps_a_burst_through_sigkill(self):
        """durability = "synced" (group commit): a burst of IAMATs on one connection, all
        acknowledged, then SIGKILL with no neighbour up: every one is back."""
        durable_config(self.config, durability='"synced"')
        self.herd.start_all()
        for name in ("Jaquez", "Juzang"):
            self.herd.stop(name)
        lines = {fixtures.unique(f"burst{i}"): None for i in range(50)}
        with self.herd.connect("Clark") as conn:
            conn.send(b"".join(herd_client.iamat_line(c, f"+{i % 80}+{i}", herd_client.now_time())
                               for i, c in enumerate(lines)))
            for client_id in lines:
                lines[client_id] = conn.read_line()[:-1]
                self.assertEqual(at.parse(lines[client_id]).echo.split(b" ")[0], client_id.encode())
        self.herd.kill("Clark")
        self.herd.start("Clark")
        held = self.herd.records("Clark", list(lines))
        self.assertEqual({c: held[c] for c in lines if held[c] != lines[c]}, {},
                         "acknowledged records missing after SIGKILL with durability = synced")
        for name in ("Jaquez", "Juzang"):
            self.herd.start(name)
        records.wait_for_exactly(self, self.herd, self.config.names, lines, RECOVER,
                                 "records did not cross the herd")

    def test_memory_keeps_no_file_and_catches_up_from_neighbours(self):
        durable_config(self.config, durability='"memory"')
        self.herd.start_all()
        lines = {}
        for i, origin in enumerate(self.config.names):
            client_id = fixtures.unique(f"mem{i}")
            lines[client_id] = self.herd.iamat(origin, client_id)
        records.wait_for_exactly(self, self.herd, self.config.names, lines, PROPAGATION,
                                 "records did not cross the herd")
        self.herd.kill("Clark")
        self.herd.start("Clark")
        records.wait_for_exactly(self, self.herd, self.config.names, lines, RECOVER,
                                 "Clark (memory) did not get its records back "
                                 f"from its neighbours within {RECOVER} s")
        for name in self.config.names:
            self.assertFalse(self.herd.data_file(name).exists(), self.herd.data_file(name))

    def test_memory_alone_forgets_on_restart(self):
        herd = herd_mod.Herd(solo_config(self, "solo", durability='"memory"'))
        self.addCleanup(herd.close)
        herd.start("Clark")
        client_id = fixtures.unique("forgotten")
        line = herd.iamat("Clark", client_id)
        self.assertEqual(herd.record("Clark", client_id), line)
        herd.kill("Clark")
        herd.start("Clark")
        self.assertIsNone(herd.record("Clark", client_id),
                          "durability = memory kept a record through a restart, alone")
        self.assertFalse(herd.data_file("Clark").exists())


class NeighbourBurstTest(fixtures.FreshHerdTestCase):
    """A neighbour's records that come in one burst are stored in few transactions: a
    link's read takes up to 64 KiB where a client's takes 8 KiB, and what a read brings
    is stored in one (src/server/client_session.hpp). With one event-loop thread: with
    more, an idle thread writes the batch while another is still storing the read's
    records (docs/durability.md)."""

    BURST = 400   # AT lines of about 85 bytes: five reads of 8 KiB, one of 64 KiB

    def test_a_burst_from_a_neighbour_is_stored_in_few_transactions(self):
        herd = clark_beside_jaquez(self, threads=1)
        prefix = fixtures.unique("burst")
        flood_as_jaquez(self, herd, prefix, self.BURST, PROPAGATION)
        self.assertEqual(herd.stop("Clark"), 0)

        rows = []
        for generation in herd.generation_files("Clark"):
            database = sqlite3.connect(generation)
            try:
                rows += [bytes(data) for (data,) in database.execute("SELECT data FROM log")]
            finally:
                database.close()
        per_row = [sum(1 for line in row.split(b"\n") if prefix.encode() in line)
                   for row in rows]
        per_row = [count for count in per_row if count]
        self.assertEqual(sum(per_row), self.BURST)
        self.assertLessEqual(len(per_row), 3, f"records of the burst in each transaction: "
                             f"{per_row}")


class SighupDuringStartUpTest(fixtures.FreshHerdTestCase):
    """A SIGHUP (logrotate's) that comes while a server reads its data file does not end
    the process: the log is reopened once the server runs (src/server/serve.cpp)."""

    # Read back in about a tenth of a second in a release build: Clark is stopped to be
    # signalled (below), so the reading need only outlast this process's look at /proc.
    RECORDS = 30_000

    def test_sighup_while_the_data_file_is_read_reopens_the_log_once_running(self):
        herd = clark_beside_jaquez(self)
        prefix = fixtures.unique("stored")
        lines = flood_as_jaquez(self, herd, prefix, self.RECORDS, 60)
        self.assertEqual(herd.stop("Clark"), 0)

        log = herd.log_path("Clark")
        moved = log.with_name("Clark.log.rotated")
        # Clark is stopped (SIGSTOP) as soon as its data file is seen open, and signalled
        # while stopped, so that the SIGHUP comes during start-up however long this process
        # takes to see the file; if Clark had read it all even so (its port accepts, which
        # a stopped process's port still does once it listens), it is restarted.
        for _ in range(3):
            herd.start("Clark", wait=False)
            pid = self.stop_once_the_data_file_is_open(herd)
            if not herd.accepts("Clark"):
                break
            os.kill(pid, signal.SIGCONT)
            self.assertEqual(herd.stop("Clark"), 0)
        else:
            self.fail("Clark read its data file before it could be stopped, three times: "
                      "the test needs more records")
        os.rename(log, moved)
        os.kill(pid, signal.SIGHUP)
        os.kill(pid, signal.SIGCONT)

        herd.wait_port("Clark", timeout=60)
        self.assertIsNone(herd.procs["Clark"].poll(), herd.stderr("Clark"))
        deadline = time.monotonic() + 5
        while not log.exists():
            self.assertLess(time.monotonic(), deadline, "Clark.log was not reopened")
            time.sleep(0.05)
        # What was logged before the SIGHUP's turn came is in the old file.
        self.assertIn(f"{self.RECORDS} records".encode(), moved.read_bytes())
        self.assertIn(b"log reopened", log.read_bytes())
        client = fixtures.unique("reopened")
        herd.iamat("Clark", client)
        self.assertIn(client.encode(), log.read_bytes())
        self.assertNotIn(client.encode(), moved.read_bytes())
        self.assertEqual(herd.record("Clark", f"{prefix}-0"), lines[0])
        self.assertEqual(herd.stop("Clark"), 0)

    def stop_once_the_data_file_is_open(self, herd: herd_mod.Herd) -> int:
        """Stops Clark, starting up, once /proc shows its data file open; returns its pid.
        The signals are caught from before the file is opened (the log says so only later:
        its lines are flushed from the event loop)."""
        pid = herd.procs["Clark"].pid
        data_file = str(herd.data_file("Clark"))
        deadline = time.monotonic() + 10
        while data_file not in procs.open_files(pid):
            self.assertIsNone(herd.procs["Clark"].poll(), herd.stderr("Clark"))
            self.assertLess(time.monotonic(), deadline, "Clark did not open its data file")
            time.sleep(0.002)
        os.kill(pid, signal.SIGSTOP)
        return pid


if __name__ == "__main__":
    unittest.main()
