"""The command line: `herd serve`, `herd check`, `herd up` (exit statuses, messages,
supervising the five servers)."""
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
import unittest

from herdtest import at, client, env, fixtures, procs
from herdtest import herd as herd_mod

NAMES = herd_mod.NAMES


class ConfigTest(unittest.TestCase):
    def setUp(self):
        self.tmp = fixtures.make_tmpdir("cli", self.addCleanup)
        self.config = herd_mod.HerdConfig(
            self.tmp, "https://127.0.0.1:9/maps/api/place/nearbysearch/json", None)
        self.config.write()

    def run_herd(self, *args: str, timeout: float = 5) -> subprocess.CompletedProcess:
        return herd_mod.run_to_exit(self.config, [env.herd_binary(), *args], timeout)

    def write(self, text: str) -> pathlib.Path:
        path = self.tmp / "bad.toml"
        path.write_text(text)
        return path

    def test_check_accepts_the_written_config(self):
        result = self.run_herd("check", "--config", str(self.config.path))
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_serve_unknown_name_lists_valid_names(self):
        result = self.run_herd("serve", "Nobody", "--config", str(self.config.path))
        self.assertEqual(result.returncode, 2, result)
        for name in NAMES:
            self.assertIn(name.encode(), result.stderr)
        self.assertIn(b"Nobody", result.stderr)
        self.assertFalse(herd_mod.port_accepts(self.config.ports["Clark"]))

    def assert_refused(self, text: str, *words: str):
        path = self.write(text)
        for args in (["check", "--config", str(path)], ["serve", "Clark", "--config", str(path)],
                     ["up", "--config", str(path)]):
            with self.subTest(command=args[0]):
                result = self.run_herd(*args)
                self.assertEqual(result.returncode, 2, result)
                for word in (str(path), *words):
                    self.assertIn(word.encode(), result.stderr, result.stderr)
                self.assertFalse(herd_mod.port_accepts(self.config.ports["Clark"]))

    def test_unknown_key_refused(self):
        text = self.config.text().replace("[places]\n", '[places]\ncolour = "red"\n')
        self.assert_refused(text, "colour")

    def test_unknown_server_key_refused(self):
        text = self.config.text().replace('name = "Jaquez"\n', 'name = "Jaquez"\nweight = 3\n')
        self.assert_refused(text, "weight")

    def test_wrong_type_refused(self):
        port = self.config.ports["Johnson"]
        text = self.config.text().replace(f"port = {port}\n", f'port = "{port}"\n')
        self.assert_refused(text, "port")

    def test_neighbour_that_does_not_exist_refused(self):
        text = self.config.text().replace('neighbours = ["Jaquez", "Juzang"]',
                                          'neighbours = ["Jaquez", "Juzang", "Nobody"]')
        self.assertIn('"Nobody"', text)
        self.assert_refused(text, "neighbours", "Nobody")

    def test_one_way_link_refused(self):
        text = self.config.text().replace('neighbours = ["Jaquez", "Juzang"]',
                                          'neighbours = ["Jaquez", "Juzang", "Johnson"]')
        self.assertIn('"Johnson"]', text)
        self.assert_refused(text, "neighbours")

    def test_missing_config_file_refused(self):
        missing = self.tmp / "does-not-exist.toml"
        for args in (["check", "--config", str(missing)], ["serve", "Clark", "--config", str(missing)]):
            with self.subTest(command=args[0]):
                result = self.run_herd(*args)
                self.assertEqual(result.returncode, 2, result)
                self.assertIn(str(missing).encode(), result.stderr)

    def test_port_in_use_refused(self):
        port = self.config.ports["Clark"]
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(blocker.close)
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        result = self.run_herd("serve", "Clark", "--config", str(self.config.path))
        self.assertEqual(result.returncode, 2, result)
        self.assertIn(str(port).encode(), result.stderr)


class ServeStopTest(fixtures.FreshHerdTestCase):
    ROUNDS = 5

    def test_sigterm_while_clients_connect_exits_cleanly(self):
        # The stop closes the listening socket while connections keep arriving: an accept
        # may be starting on another thread at that moment (the ThreadSanitizer run's four
        # threads make that likely), and the stop must not race it.
        self.herd.start_all()
        port = self.herd.port("Clark")
        for round_ in range(self.ROUNDS):
            stop = threading.Event()

            def connect_until_stopped():
                while not stop.is_set():
                    try:
                        with client.Connection(port, timeout=1) as conn:
                            conn.send(client.iamat_line(fixtures.unique("stop"), "+1+1",
                                                        client.now_time()))
                    except OSError:
                        pass

            clients = [threading.Thread(target=connect_until_stopped) for _ in range(3)]
            for thread in clients:
                thread.start()
            try:
                time.sleep(0.2)
                status = self.herd.stop("Clark")
            finally:
                stop.set()
                for thread in clients:
                    thread.join()
            self.assertEqual(status, 0, f"round {round_}: herd serve should exit 0 on SIGTERM")
            self.assertEqual(self.herd.log_path("Clark").read_bytes().count(
                b"Clark stopping on signal 15"), round_ + 1, f"round {round_}")
            self.assertEqual(herd_mod.sanitizer_report(self.herd.stderr("Clark")), "",
                             f"round {round_}")
            self.herd.start("Clark")


class UpTest(unittest.TestCase):
    def setUp(self):
        self.tmp = fixtures.make_tmpdir("up", self.addCleanup)
        self.config = herd_mod.HerdConfig(
            self.tmp, "https://127.0.0.1:9/maps/api/place/nearbysearch/json", None)
        self.config.write()
        self.up = herd_mod.start_process(
            [env.herd_binary(), "up", "--config", str(self.config.path)], self.tmp, "up",
            self.config.environment(), new_session=True)
        self.addCleanup(herd_mod.kill_group, self.up)
        deadline = time.monotonic() + 10
        for name in NAMES:
            while not herd_mod.port_accepts(self.config.ports[name]):
                self.assertIsNone(self.up.poll(), (self.tmp / "up.stderr").read_bytes())
                self.assertLess(time.monotonic(), deadline, f"{name} never listened")
                time.sleep(0.05)
        self.children = procs.children(self.up.pid)

    def stderr(self) -> bytes:
        return (self.tmp / "up.stderr").read_bytes()

    def iamat(self, name: str) -> bytes:
        return client.iamat(self.config.ports[name], fixtures.unique("up"), "+1+2",
                            client.now_time())

    def test_up_runs_all_five_and_sigterm_stops_them(self):
        for name in NAMES:
            line = self.iamat(name)
            self.assertEqual(at.parse(line).server, name.encode())
        listeners = {name: procs.listener_pid(self.config.ports[name], self.children)
                     for name in NAMES}
        self.assertTrue(all(listeners.values()), (listeners, self.children))
        self.assertEqual(len(set(listeners.values())), 5, listeners)

        self.up.send_signal(signal.SIGTERM)
        try:
            self.up.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("herd up did not exit within 10 s of SIGTERM")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(procs.alive(pid) for pid in self.children):
            time.sleep(0.05)
        self.assertEqual([pid for pid in self.children if procs.alive(pid)], [],
                         "children left running after herd up exited")
        for name in NAMES:
            self.assertFalse(herd_mod.port_accepts(self.config.ports[name]), name)

    def test_ctrl_c_stops_every_server_cleanly(self):
        """Ctrl-C in a terminal sends SIGINT to `up` and its servers alike, and `up` then
        sends each a SIGTERM: a server already stopping finishes its stop, closing its data
        files (no WAL left beside them), rather than die of the second signal."""
        for name in NAMES:
            self.iamat(name)
        os.killpg(self.up.pid, signal.SIGINT)
        try:
            self.up.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.fail("herd up did not exit within 10 s of SIGINT")
        self.assertEqual(self.up.returncode, 0, self.stderr())
        for name in NAMES:
            files = sorted(p.name for p in self.config.data_dir.glob(name + ".db*"))
            self.assertEqual(files, [f"{name}.db", f"{name}.db.1"], name)
            # Whichever of the two signals it took first (SIGINT or SIGTERM), it stopped
            # once.
            log = (self.tmp / "logs" / f"{name}.log").read_bytes()
            self.assertRegex(log, f"{name} stopping on signal (2|15)\n".encode())
            self.assertEqual(log.count(b" stopping on signal "), 1, name)

    def stop_with_a_child_stuck(self, name: str, second_signal: bool) -> tuple[int, bytes]:
        """Stops `up` while `name`'s server is frozen (SIGSTOP: it cannot act on SIGTERM);
        returns the server's pid and what `up` wrote meanwhile, once it has exited."""
        stuck = procs.listener_pid(self.config.ports[name], self.children)
        self.assertIsNotNone(stuck, self.children)
        os.kill(stuck, signal.SIGSTOP)
        before = len(self.stderr())
        started = time.monotonic()
        self.up.send_signal(signal.SIGTERM)
        if second_signal:
            time.sleep(0.5)
            self.up.send_signal(signal.SIGINT)
        try:
            self.up.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("herd up did not exit with a stuck child")
        took = time.monotonic() - started
        # Killed, not left frozen.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and procs.alive(stuck):
            time.sleep(0.05)
        self.assertFalse(procs.alive(stuck), f"{name} (pid {stuck}) left behind")
        self.assertLess(took, 4 if second_signal else 12)
        return stuck, self.stderr()[before:]

    def test_up_kills_a_child_that_outlives_the_grace_period(self):
        stuck, report = self.stop_with_a_child_stuck("Jaquez", second_signal=False)
        self.assertIn(f"herd: Jaquez (pid {stuck}) did not stop within 5 s; killing it\n".encode(),
                      report)

    def test_a_second_stop_request_kills_what_is_still_stopping(self):
        stuck, report = self.stop_with_a_child_stuck("Jaquez", second_signal=True)
        self.assertIn(f"herd: Jaquez (pid {stuck}) is still stopping, and stop was asked again; "
                      "killing it\n".encode(), report)
        self.assertNotIn(b"did not stop within", report)

    def test_up_reports_a_child_killed_with_sigkill(self):
        victim = procs.listener_pid(self.config.ports["Juzang"], self.children)
        self.assertIsNotNone(victim, self.children)
        before = len(self.stderr())
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 5
        report = b""
        while time.monotonic() < deadline:
            report = self.stderr()[before:]
            if b"Juzang" in report and (b"SIGKILL" in report or b"signal 9" in report or
                                        b"KILL" in report.upper()):
                break
            time.sleep(0.05)
        self.assertIn(b"Juzang", report)
        self.assertTrue(b"SIGKILL" in report or b"signal 9" in report or b"KILL" in report.upper(),
                        report)
        # The other servers keep serving.
        line = self.iamat("Clark")
        self.assertEqual(at.parse(line).server, b"Clark")


if __name__ == "__main__":
    unittest.main()
