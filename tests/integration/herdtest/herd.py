"""Runs a herd of real `herd serve` processes on free ports, with a config written for the
test, and cleans every process up however the test ends."""
import atexit
import json
import os
import pathlib
import random
import re
import secrets
import signal
import socket
import subprocess
import time
from typing import Optional

from . import client as herd_client
from . import env

NAMES = ["Bernard", "Clark", "Jaquez", "Johnson", "Juzang"]
LINKS = {
    "Bernard": ["Jaquez", "Johnson", "Juzang"],
    "Clark": ["Jaquez", "Juzang"],
    "Jaquez": ["Bernard", "Clark"],
    "Johnson": ["Bernard", "Juzang"],
    "Juzang": ["Bernard", "Clark", "Johnson"],
}
KEY_ENV = "HERD_TEST_PLACES_KEY"

_live: set = set()  # every Popen started here and not yet reaped


def _kill_leftovers() -> None:
    for proc in list(_live):
        if proc.poll() is None:
            proc.kill()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        _live.discard(proc)


atexit.register(_kill_leftovers)


# Servers' ports come from below the ephemeral range. A dial to a port in that range
# where nothing listens (a server the test has killed) can connect to itself, the kernel
# picking that very port as the source; the connection then holds the port in TIME_WAIT
# for a minute, and the server cannot bind it to restart. The herd resets such a link of
# its own (test_netns.SelfConnectionTest), but the test's probes and clients close the
# usual way.
FIRST_PORT = 10000
PORT_TRIES = 1000


def ephemeral_ports() -> tuple[int, int]:
    """net.ipv4.ip_local_port_range: the ports the kernel picks outgoing connections'
    source ports from."""
    low, high = pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    return int(low), int(high)


def free_ports(count: int) -> list[int]:
    """Ports free for 127.0.0.1 below the ephemeral range, chosen at random, all held at
    once so they differ."""
    low, _ = ephemeral_ports()
    if low - FIRST_PORT < 100 * count:
        raise RuntimeError(f"net.ipv4.ip_local_port_range starts at {low}: too few ports "
                           f"below it, from {FIRST_PORT}, to choose servers' ports from")
    chooser = random.SystemRandom()
    sockets: list[socket.socket] = []
    try:
        for _ in range(PORT_TRIES):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.bind(("127.0.0.1", chooser.randrange(FIRST_PORT, low)))
            except OSError:   # in use, or in TIME_WAIT
                sock.close()
                continue
            sockets.append(sock)
            if len(sockets) == count:
                return [sock.getsockname()[1] for sock in sockets]
        raise RuntimeError(f"no {count} free ports between {FIRST_PORT} and {low} "
                           f"in {PORT_TRIES} tries")
    finally:
        for sock in sockets:
            sock.close()


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def toml_string(value: str) -> str:
    return json.dumps(value)


def make_key() -> str:
    return "itestKey-" + secrets.token_hex(12)


def start_process(args: list, workdir: pathlib.Path, stem: str,
                  extra_env: Optional[dict] = None, new_session: bool = False) -> subprocess.Popen:
    """Starts a process with stdout/stderr appended to <stem>.stdout/.stderr in workdir.
    With `new_session`, it leads its own process group, so its children can be ended with it."""
    environ = dict(os.environ)
    if extra_env:
        environ.update(extra_env)
    with open(workdir / f"{stem}.stdout", "ab") as out, open(workdir / f"{stem}.stderr", "ab") as err:
        proc = subprocess.Popen(args, cwd=workdir, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, env=environ,
                                start_new_session=new_session)
    _live.add(proc)
    return proc


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the process group led by `proc` (started with new_session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    reap(proc)


def reap(proc: subprocess.Popen, sig: int = signal.SIGKILL, timeout: float = 5.0) -> Optional[int]:
    """Sends `sig` (if still running) and waits; escalates to SIGKILL. Returns the status."""
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    _live.discard(proc)
    return proc.returncode


SANITIZER_MARKERS = (b"ERROR: AddressSanitizer", b"ERROR: LeakSanitizer", b"runtime error:",
                     b"WARNING: ThreadSanitizer", b"ERROR: ThreadSanitizer")


def sanitizer_report(stderr: bytes, lines: int = 60, width: int = 240) -> str:
    """The sanitizer report in a server's stderr, or "" if there is none: its first `lines`
    lines, each longer than `width` cut in its middle, without build ids. Asio's frames run
    to thousands of characters of template arguments, and kept whole they would leave room
    for a few frames only; a frame's function name starts its line and its file ends it."""
    for marker in SANITIZER_MARKERS:
        at = stderr.find(marker)
        if at >= 0:
            start = stderr.rfind(b"\n", 0, at) + 1
            text = re.sub(r" \(BuildId: [0-9a-f]+\)", "", stderr[start:].decode(errors="replace"))
            kept = text.splitlines()[:lines]
            half = width // 2
            return "\n".join(line if len(line) <= width else f"{line[:half]} ... {line[-half:]}"
                             for line in kept)
    return ""


class HerdConfig:
    """The TOML file the herd reads; every path absolute, every port free."""

    def __init__(self, workdir: pathlib.Path, upstream_url: str, ca_file: Optional[pathlib.Path],
                 timeout_ms: int = 1000, names=NAMES, links=LINKS):
        self.workdir = workdir
        self.log_dir = workdir / "logs"
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.upstream_url = upstream_url
        self.ca_file = ca_file
        self.timeout_ms = timeout_ms
        self.names = list(names)
        self.links = {name: list(links[name]) for name in self.names}
        self.ports = dict(zip(self.names, free_ports(len(self.names))))
        self.key = make_key()
        self.key_file: Optional[pathlib.Path] = None
        self.path = workdir / "herd.toml"
        # More [places] keys, written as given (values as TOML literals). The herd's call
        # limit is off by default: tests make bursts of calls on purpose, and the limit has
        # tests of its own (test_places_sources.py).
        self.places_settings: dict[str, str] = {"max_calls_per_second": "0"}
        # Whole sections more ({"limits": {"max_connections": "3"}}), values as TOML
        # literals, and environment variables more for the servers.
        self.sections: dict[str, dict[str, str]] = {}
        self.extra_env: dict[str, str] = {}
        self.host = "127.0.0.1"
        # A server's own address, where it differs from `host` (test_netns.py).
        self.hosts: dict[str, str] = {}
        # [store]: `dir` is always data_dir (absolute); more keys here, as TOML literals
        # ({"durability": '"synced"', "ttl_s": "3"}). Setting `dir` here is refused: set
        # data_dir. A `store` entry in `sections` is merged into these.
        self.data_dir = workdir / "data"
        self.store_settings: dict[str, str] = {}

    def store_section(self) -> dict[str, str]:
        """Every key of [store] as written, `dir` first."""
        settings = dict(self.store_settings)
        for key, value in self.sections.get("store", {}).items():
            if key in settings and settings[key] != value:
                raise ValueError(f"[store] {key} set twice: {settings[key]} in store_settings, "
                                 f"{value} in sections")
            settings[key] = value
        if "dir" in settings:
            raise ValueError("set HerdConfig.data_dir, not a [store] dir key")
        return {"dir": toml_string(str(self.data_dir)), **settings}

    def server_host(self, name: str) -> str:
        return self.hosts.get(name, self.host)

    def text(self) -> str:
        lines = ["[log]", f"dir = {toml_string(str(self.log_dir))}", "",
                 "[places]", f"url = {toml_string(self.upstream_url)}"]
        if self.key_file is not None:
            lines.append(f"key_file = {toml_string(str(self.key_file))}")
        else:
            lines.append(f"key_env = {toml_string(KEY_ENV)}")
        if self.ca_file is not None:
            lines.append(f"ca_file = {toml_string(str(self.ca_file))}")
        lines.append(f"timeout_ms = {self.timeout_ms}")
        lines += [f"{key} = {value}" for key, value in self.places_settings.items()]
        lines += ["", "[store]"]
        lines += [f"{key} = {value}" for key, value in self.store_section().items()]
        for section, settings in self.sections.items():
            if section == "store":
                continue  # merged into [store] above
            lines += ["", f"[{section}]"]
            lines += [f"{key} = {value}" for key, value in settings.items()]
        for name in self.names:
            neighbours = ", ".join(toml_string(n) for n in self.links[name])
            lines += ["", "[[servers]]", f"name = {toml_string(name)}",
                      f"host = {toml_string(self.server_host(name))}",
                      f"port = {self.ports[name]}", f"neighbours = [{neighbours}]"]
        return "\n".join(lines) + "\n"

    def write(self) -> pathlib.Path:
        self.path.write_text(self.text())
        return self.path

    def serve_command(self, name: str) -> list:
        """The command line that runs server `name` of this config."""
        return [env.herd_binary(), "serve", name, "--config", str(self.path)]

    def environment(self) -> dict:
        if self.key_file is not None:
            # A decoy in the environment: the key file must win.
            return {KEY_ENV: "decoy-" + self.key[::-1], **self.extra_env}
        return {KEY_ENV: self.key, **self.extra_env}


def run_to_exit(config: HerdConfig, command: list,
                timeout: float = 30) -> subprocess.CompletedProcess:
    """Runs `command` in `config`'s directory and environment, without input, until it
    exits: for what stops by itself (`herd check`, a `herd serve` that refuses to start)."""
    return subprocess.run(command, cwd=config.workdir, capture_output=True, timeout=timeout,
                          env={**os.environ, **config.environment()}, stdin=subprocess.DEVNULL)


class Herd:
    """Five `herd serve` processes. Use as a context manager or call close()."""

    def __init__(self, config: HerdConfig):
        self.config = config
        self.config.write()
        self.procs: dict[str, subprocess.Popen] = {}
        self._probe = 0

    # Processes.
    def start(self, name: str, wait: bool = True, threads: Optional[int] = None) -> None:
        """`threads`: event-loop threads, for a test whose claim holds for that many only;
        otherwise HERD_TEST_THREADS runs every server's event loop on that many threads (the
        ThreadSanitizer run of the suite sets it), or the server's default."""
        if name in self.procs and self.procs[name].poll() is None:
            raise RuntimeError(f"{name} is already running")
        if threads is None and os.environ.get("HERD_TEST_THREADS"):
            threads = int(os.environ["HERD_TEST_THREADS"])
        option = ["--threads", str(threads)] if threads is not None else []
        self.procs[name] = start_process(
            self.command(name) + option, self.config.workdir, name, self.config.environment())
        if wait:
            self.wait_port(name)

    def command(self, name: str) -> list:
        """The command line that runs server `name` (test_netns.py wraps it)."""
        return self.config.serve_command(name)

    def start_all(self) -> None:
        for name in self.config.names:
            self.start(name, wait=False)
        for name in self.config.names:
            self.wait_port(name)
        self.wait_linked()

    def wait_port(self, name: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        proc = self.procs[name]
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"herd serve {name} exited with {proc.returncode}: "
                                   f"{self.stderr(name)!r}")
            if self.accepts(name):
                return
            time.sleep(0.02)
        raise RuntimeError(f"herd serve {name} does not accept connections on {self.port(name)}")

    def kill(self, name: str) -> None:
        reap(self.procs[name], signal.SIGKILL)
        self._wait_port_closed(name)

    def stop(self, name: str) -> Optional[int]:
        status = reap(self.procs[name], signal.SIGTERM)
        self._wait_port_closed(name)
        return status

    def restart(self, name: str) -> None:
        if self.procs[name].poll() is None:
            self.stop(name)
        self.start(name)

    def running(self, name: str) -> bool:
        return name in self.procs and self.procs[name].poll() is None

    def _wait_port_closed(self, name: str, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.accepts(name):
            time.sleep(0.02)

    def close(self) -> None:
        """Stops every server with SIGTERM, as an operator would, so that sanitizer builds
        run their exit-time checks; then fails if any server reported a sanitizer error."""
        for proc in self.procs.values():
            reap(proc, signal.SIGTERM)
        for name in self.procs:
            report = sanitizer_report(self.stderr(name))
            if report:
                raise AssertionError(f"herd serve {name} reported:\n{report}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # Facts.
    def port(self, name: str) -> int:
        return self.config.ports[name]

    def data_file(self, name: str) -> pathlib.Path:
        """Server `name`'s data file, `<store.dir>/<name>.db` (with its -wal beside): the
        anchor that names its generations."""
        return self.config.data_dir / f"{name}.db"

    def generation_files(self, name: str) -> list[pathlib.Path]:
        """Server `name`'s generation files, `<name>.db.<N>`, oldest first: where its
        records are."""
        prefix = f"{name}.db."
        numbered = [(int(path.name[len(prefix):]), path)
                    for path in self.config.data_dir.glob(prefix + "*")
                    if path.name[len(prefix):].isdigit()]
        return [path for _, path in sorted(numbered)]

    def log_path(self, name: str) -> pathlib.Path:
        return self.config.log_dir / f"{name}.log"

    def stderr(self, name: str) -> bytes:
        path = self.config.workdir / f"{name}.stderr"
        return path.read_bytes() if path.exists() else b""

    def all_output(self) -> bytes:
        """Every byte the herd wrote: logs, stdout, stderr."""
        data = b""
        for path in sorted(self.config.log_dir.glob("*")):
            if path.is_file():
                data += path.read_bytes()
        for path in sorted(self.config.workdir.glob("*.std*")):
            data += path.read_bytes()
        return data

    # Talking to it.
    def connect(self, name: str, timeout: float = herd_client.DEFAULT_TIMEOUT) -> herd_client.Connection:
        """A client connection to server `name` (test_netns.py connects from its namespace)."""
        return herd_client.Connection(self.port(name), timeout=timeout)

    def accepts(self, name: str) -> bool:
        """Whether server `name` accepts connections now."""
        try:
            with self.connect(name, timeout=0.5):
                return True
        except OSError:
            return False

    def iamat(self, name: str, client: str, location: str = "+34.068930-118.445127",
              client_time: Optional[str] = None) -> bytes:
        """Sends one IAMAT; returns the reply line without its newline."""
        with self.connect(name) as conn:
            conn.send(herd_client.iamat_line(client, location,
                                             client_time or herd_client.now_time()))
            return conn.read_line()[:-1]

    def whatsat(self, name: str, client: str, radius: str = "10", bound: int = 1,
                timeout: Optional[float] = None) -> bytes:
        with self.connect(name) as conn:
            conn.send(f"WHATSAT {client} {radius} {bound}\n".encode())
            return conn.read_whatsat(timeout)

    def records(self, name: str, clients: list, timeout: float = 30.0) -> dict:
        """{client: the AT line server `name` holds, or None}: one WHATSAT a client,
        pipelined on one connection (replies come back in order)."""
        held = {}
        deadline = time.monotonic() + timeout
        with self.connect(name) as conn:
            conn.send(b"".join(f"WHATSAT {c} 10 1\n".encode() for c in clients))
            for c in clients:
                reply = conn.read_whatsat(max(0.1, deadline - time.monotonic()))
                held[c] = None if reply.startswith(b"? ") else reply.split(b"\n", 1)[0]
        return held

    def record(self, name: str, client: str) -> Optional[bytes]:
        """The AT line server `name` holds for `client`, or None if it answers `?`."""
        reply = self.whatsat(name, client)
        if reply.startswith(b"? "):
            return None
        return reply.split(b"\n", 1)[0]

    def wait_record(self, name: str, client: str, expected: bytes, timeout: float = 5.0) -> Optional[bytes]:
        """Polls server `name` until it holds `expected` for `client`; returns what it held last."""
        deadline = time.monotonic() + timeout
        while True:
            held = self.record(name, client)
            if held == expected or time.monotonic() > deadline:
                return held
            time.sleep(0.05)

    def wait_linked(self, timeout: float = 15.0) -> None:
        """Waits until a record sent to each running server reaches every running server.
        A record sent before a link was up may be lost, so each probe is re-sent, newer."""
        names = [n for n in self.config.names if self.running(n)]
        deadline = time.monotonic() + timeout
        for origin in names:
            self._probe += 1
            probe = f"probe-{origin}-{self._probe}-{secrets.token_hex(4)}"
            while True:
                at_line = self.iamat(origin, probe, "+0+0")
                resend = time.monotonic() + 1.0
                pending = [n for n in names if n != origin]
                while pending and time.monotonic() < min(resend, deadline):
                    pending = [n for n in pending if self.record(n, probe) != at_line]
                    if pending:
                        time.sleep(0.05)
                if not pending:
                    break
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"herd not linked after {timeout} s: a record sent to "
                                       f"{origin} never reached {pending}")
