"""The herd across hosts: each server in a network namespace of its own, all joined by a
Linux bridge in a "switch" namespace, each listening on its own address (beyond
loopback, so links are authenticated with a secret). Records flood between the hosts;
when Johnson's cable is pulled the two sides go on alone, and when it is plugged back in
they converge.

Needs root (or CAP_SYS_ADMIN and CAP_NET_ADMIN) and `ip` with netns, veth and bridge
support; skipped, saying what failed, otherwise. Every namespace is removed however the
test ends.

The test talks to a server from inside the server's own namespace, to the server's own
address: setns(2) on the current thread around socket(2) only (a socket stays in the
namespace it was made in), so the rest of the test process stays where it was. The cable
is pulled on the switch side (the bridge port goes down, Johnson's end loses its carrier
but keeps its address), so the test can still reach Johnson while Johnson cannot reach
the herd."""
import atexit
import ctypes
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import unittest

from herdtest import at, fixtures, places, records
from herdtest import client as herd_client
from herdtest import herd as herd_mod

PROPAGATION = 10.0   # a record across the herd (or across one side of the cut)
RECONNECT = 30.0     # after the cable is back: TCP retransmission backs off for a cut link
CABLE_OUT = 3.0      # the cable stays out at least this long, the sides watched all along
IP_TIMEOUT = 20.0    # one `ip` command

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
_libc.setns.restype = ctypes.c_int

_namespaces: set[str] = set()   # made here and not yet removed


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT,
                          stdin=subprocess.DEVNULL)


def _remove_namespace(name: str) -> None:
    if name in _namespaces:
        _ip("netns", "delete", name)
        _namespaces.discard(name)


@atexit.register
def _remove_leftover_namespaces() -> None:
    for name in list(_namespaces):
        _remove_namespace(name)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"setns(CLONE_NEWNET): {os.strerror(error)}")


def socket_in(namespace: str) -> socket.socket:
    """A TCP socket of network namespace `namespace`; this thread is back in its own
    namespace when this returns."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(f"/run/netns/{namespace}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
            try:
                return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            finally:
                try:
                    _setns(own)
                except OSError as error:
                    # This thread would go on in the wrong namespace: nothing after it
                    # could be trusted.
                    sys.stderr.write(f"cannot return to the test's network namespace: {error}\n")
                    os._exit(70)
        finally:
            os.close(target)
    finally:
        os.close(own)


class NetnsHerd(herd_mod.Herd):
    """A herd whose servers run in namespaces `namespaces[name]`."""

    def __init__(self, config: herd_mod.HerdConfig, namespaces: dict[str, str]):
        super().__init__(config)
        self.namespaces = namespaces

    def command(self, name: str) -> list:
        return ["ip", "netns", "exec", self.namespaces[name]] + super().command(name)

    def connect(self, name: str, timeout: float = herd_client.DEFAULT_TIMEOUT) -> herd_client.Connection:
        return herd_client.Connection(self.port(name), self.config.server_host(name), timeout,
                                      sock=socket_in(self.namespaces[name]))


class NamespaceTestCase(unittest.TestCase):
    """Skips, saying why, where this machine cannot make network namespaces; removes every
    namespace it made however the test ends."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest(f"network namespaces need root; running as uid {os.geteuid()}")
        if shutil.which("ip") is None:
            self.skipTest("network namespaces need iproute2's `ip`, not found on PATH")

    def skip_because(self, what: str, result: subprocess.CompletedProcess) -> None:
        self.skipTest(f"network namespaces unavailable: `{' '.join(result.args)}` failed "
                      f"({what}): {result.stderr.strip() or result.returncode}")

    def probe(self, *args: str, what: str) -> None:
        """Runs `ip args`, a step that needs something of the kernel the machine may not
        allow (a bridge, a veth pair); skips the test, saying what failed, if it fails."""
        result = _ip(*args)
        if result.returncode != 0:
            self.skip_because(what, result)

    def ip(self, *args: str) -> None:
        """Runs `ip args`, a step that cannot fail where the probes passed: its failure
        fails the test."""
        result = _ip(*args)
        self.assertEqual(result.returncode, 0,
                         f"`{' '.join(result.args)}` failed: {result.stderr.strip()}")

    def add_namespace(self, name: str) -> None:
        result = _ip("netns", "add", name)
        if result.returncode != 0:
            self.skip_because("cannot make a network namespace", result)
        _namespaces.add(name)
        self.addCleanup(_remove_namespace, name)


class NetnsTest(NamespaceTestCase):
    maxDiff = None

    def setUp(self):
        super().setUp()
        self.tmp = fixtures.make_tmpdir("netns", self.addCleanup)
        # Nothing listens on port 9 in a server's namespace: WHATSAT's places call fails at
        # once, and the reply still carries the record, which is all this test reads.
        self.config = herd_mod.HerdConfig(self.tmp, "http://127.0.0.1:9/maps/api/place/"
                                          "nearbysearch/json", None)
        prefix = f"herd{os.getpid()}-{secrets.token_hex(2)}"
        self.switch = f"{prefix}-sw"
        self.namespaces = {name: f"{prefix}-{name}" for name in self.config.names}
        pid = os.getpid()
        subnet = f"10.{(pid >> 8) & 255}.{pid & 255}"

        self.add_namespace(self.switch)
        self.probe("-n", self.switch, "link", "add", "br0", "type", "bridge",
                   what="no Linux bridge support")
        self.ip("-n", self.switch, "link", "set", "br0", "up")
        self.ip("-n", self.switch, "link", "set", "lo", "up")
        self.ports: dict[str, str] = {}   # server: its bridge port in the switch namespace
        for index, name in enumerate(self.config.names, start=1):
            namespace = self.namespaces[name]
            self.add_namespace(namespace)
            port = self.ports[name] = f"p{index}"
            self.probe("-n", self.switch, "link", "add", port, "type", "veth", "peer", "name",
                       "eth0", "netns", namespace, what="no veth support")
            self.ip("-n", self.switch, "link", "set", port, "master", "br0")
            self.ip("-n", self.switch, "link", "set", port, "up")
            address = f"{subnet}.{index}"
            self.ip("-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0")
            self.ip("-n", namespace, "link", "set", "eth0", "up")
            self.ip("-n", namespace, "link", "set", "lo", "up")
            self.config.hosts[name] = address
        try:
            socket_in(self.switch).close()
        except OSError as error:
            self.skipTest(f"network namespaces unavailable: setns from the test failed: {error}")

        self.config.sections["links"] = {"secret_env": '"HERD_LINK_SECRET"'}
        self.config.extra_env["HERD_LINK_SECRET"] = "netns-" + secrets.token_hex(16)
        self.herd = NetnsHerd(self.config, self.namespaces)
        self.addCleanup(self.herd.close)   # runs before the namespaces are removed
        self.herd.start_all()              # waits until records cross every link

    def cable(self, name: str, state: str) -> None:
        result = _ip("-n", self.switch, "link", "set", self.ports[name], state)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_servers_run_in_their_namespaces_and_records_cross_hosts(self):
        for name in self.config.names:
            ns_link = os.readlink(f"/proc/{self.herd.procs[name].pid}/ns/net")
            self.assertNotEqual(ns_link, os.readlink("/proc/self/ns/net"), name)
            self.assertEqual(os.path.realpath(f"/proc/{self.herd.procs[name].pid}/exe"),
                             os.path.realpath(os.environ["HERD_BINARY"]),
                             "`ip netns exec` should have become the server itself")
        # Not on the test's own network: no interface here has a server's address, so a
        # socket cannot be bound to it. (A connection would prove nothing: some machines
        # route such addresses to a proxy that accepts every connection.)
        for name in self.config.names:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                with self.assertRaises(OSError, msg=name):
                    sock.bind((self.config.hosts[name], 0))
        expected = {}
        for name in self.config.names:
            client_id = fixtures.unique(f"host-{name}")
            expected[client_id] = self.herd.iamat(name, client_id)
            self.assertEqual(at.parse(expected[client_id]).server, name.encode())
        records.wait_for_exactly(self, self.herd, self.config.names, expected, PROPAGATION,
                                 "records did not cross the hosts")
        client_id = next(iter(expected))
        reply = self.herd.whatsat("Johnson", client_id)
        self.assertTrue(reply.startswith(expected[client_id] + b"\n{"), reply[:300])

    def test_cut_cable_then_converge(self):
        names = self.config.names
        rest = [name for name in names if name != "Johnson"]
        token = fixtures.unique("cut")
        shared = [f"shared{i}-{token}" for i in range(2)]
        before = {client_id: self.herd.iamat("Jaquez", client_id) for client_id in shared}
        records.wait_for_exactly(self, self.herd, names, before, PROPAGATION,
                                 "records did not cross the hosts")

        self.cable("Johnson", "down")
        cut = time.monotonic()
        ledger = records.SplitLedger(before)
        on_rest, on_johnson = 0, 1
        for i in range(3):
            client_id = f"rest{i}-{token}"
            ledger.update(on_rest, client_id, self.herd.iamat(rest[i % len(rest)], client_id))
            client_id = f"johnson{i}-{token}"
            ledger.update(on_johnson, client_id, self.herd.iamat("Johnson", client_id))
        # shared0 newer on Johnson's side, shared1 newer on the others'.
        now = time.time_ns()
        older, newer = herd_client.client_time(now), herd_client.client_time(now + 1000)
        for client_id, (johnson_time, rest_time) in zip(shared, [(newer, older), (older, newer)]):
            ledger.update(on_johnson, client_id,
                          self.herd.iamat("Johnson", client_id, client_time=johnson_time))
            ledger.update(on_rest, client_id,
                          self.herd.iamat("Bernard", client_id, client_time=rest_time))
        side_rest, side_johnson = ledger.sides[on_rest], ledger.sides[on_johnson]
        for side, servers in ((side_rest, rest), (side_johnson, ["Johnson"])):
            records.wait_for_exactly(self, self.herd, servers, side, PROPAGATION,
                                     f"{servers} do not hold their own side's "
                                     "records, and only those, while the cable is out")
        # Out long enough for TCP to back off its retransmissions; neither side hears of
        # the other meanwhile.
        expected_by_server = {name: side_johnson if name == "Johnson" else side_rest
                              for name in names}
        while True:  # at least once, however long the steps before took
            snap = records.snapshot(self.herd, names, side_rest)
            wrong = [f"{name} holds {snap[name][c]!r} for {c}, expected {line!r}"
                     for name, side in expected_by_server.items() for c, line in side.items()
                     if snap[name][c] != line]
            self.assertEqual(wrong, [], "a record crossed the cut")
            if time.monotonic() >= cut + CABLE_OUT:
                break
            time.sleep(0.2)

        self.cable("Johnson", "up")
        plugged = time.monotonic()
        expected = ledger.healed()
        records.wait_for_exactly(self, self.herd, names, expected, RECONNECT,
                                 f"not converged within {RECONNECT} s of the cable coming back")
        print(f"\n  cable out {plugged - cut:.2f} s; converged "
              f"{time.monotonic() - plugged:.2f} s after it came back", file=sys.stderr)


class SelfConnectionTest(NamespaceTestCase):
    """A link dialling a neighbour that is down, at a port of the host's ephemeral range,
    can connect to itself: the kernel picks that very port as the source, and TCP's
    simultaneous open joins the two ends. So can the places client, dialling a places
    source on this host that is down. The server drops such a connection without holding
    the port, so the neighbour (or the places source) can bind it when it starts. The
    servers run in a namespace of the test's own, whose ephemeral range the test narrows
    to the one port dialled for a while: every dial then lands on itself."""

    def set_port_range(self, low: int, high: int) -> None:
        self.ip("netns", "exec", self.namespace, "sh", "-c",
                f"echo {low} {high} > /proc/sys/net/ipv4/ip_local_port_range")

    def set_port_range_without(self, port: int) -> None:
        """A wide range again, on one side of `port`, so no dial lands on it."""
        self.set_port_range(*((port + 1, 65535) if port < 60000 else (1024, port - 1)))

    def test_a_link_that_reaches_itself_leaves_the_port_free(self):
        self.tmp = fixtures.make_tmpdir("selfconnect", self.addCleanup)
        names = ["Bernard", "Clark"]
        config = herd_mod.HerdConfig(self.tmp, "http://127.0.0.1:9/maps/api/place/nearbysearch/"
                                     "json", None, names=names,
                                     links={"Bernard": ["Clark"], "Clark": ["Bernard"]})
        self.namespace = f"herd{os.getpid()}-{secrets.token_hex(2)}-self"
        self.add_namespace(self.namespace)
        self.ip("-n", self.namespace, "link", "set", "lo", "up")
        herd = NetnsHerd(config, {name: self.namespace for name in names})
        self.addCleanup(herd.close)   # runs before the namespace is removed

        herd.start("Clark")
        bernard = herd.port("Bernard")
        started = time.monotonic()
        # From here until the range is wide again, nothing of the test dials in the
        # namespace: a connection of its own from that one port, closed the usual way,
        # would hold the port in TIME_WAIT just as the bug does.
        self.set_port_range(bernard, bernard)
        log = herd.log_path("Clark")
        while b"connected to itself" not in log.read_bytes():
            self.assertLess(time.monotonic() - started, PROPAGATION,
                            "Clark's link to Bernard never connected to itself:\n" +
                            log.read_text(errors="replace")[-2000:])
            time.sleep(0.05)
        self.assertRegex(log.read_text(errors="replace"),
                         rf"WARN link to Bernard: connected to itself at 127\.0\.0\.1:{bernard}, "
                         r"as nothing listens there and the port is in this host's ephemeral "
                         r"range \(net\.ipv4\.ip_local_port_range\); reset\n")
        self.set_port_range_without(bernard)

        herd.start("Bernard")   # fails if Bernard cannot bind its port
        client_id = fixtures.unique("self")
        expected = {client_id: herd.iamat("Clark", client_id)}
        records.wait_for_exactly(self, herd, names, expected, PROPAGATION,
                                 "Clark's record did not reach Bernard")

    def test_a_places_call_that_reaches_itself_leaves_the_port_free(self):
        self.tmp = fixtures.make_tmpdir("selfplaces", self.addCleanup)
        places_port = herd_mod.free_ports(1)[0]   # nothing listens there in the namespace
        places_url = f"http://127.0.0.1:{places_port}/maps/api/place/nearbysearch/json"
        config = herd_mod.HerdConfig(self.tmp, places_url, None, names=["Clark"],
                                     links={"Clark": []})
        self.namespace = f"herd{os.getpid()}-{secrets.token_hex(2)}-selfplaces"
        self.add_namespace(self.namespace)
        self.ip("-n", self.namespace, "link", "set", "lo", "up")
        herd = NetnsHerd(config, {"Clark": self.namespace})
        self.addCleanup(herd.close)
        herd.start("Clark")
        client_id = fixtures.unique("selfplaces")
        with herd.connect("Clark") as conn:   # dialled while the range is wide
            conn.send(herd_client.iamat_line(client_id, "+34.068930-118.445127",
                                             herd_client.now_time()))
            at_line = conn.read_line()[:-1]
            # Every connection Clark dials now leaves from the places port, to it.
            self.set_port_range(places_port, places_port)
            try:
                conn.send(f"WHATSAT {client_id} 10 1\n".encode())
                reply = conn.read_whatsat(timeout=10)
            finally:
                self.set_port_range_without(places_port)
        self.assertTrue(places.is_unknown_error_reply(reply, at_line), reply)
        message = (rf"connect to 127\.0\.0\.1:{places_port} failed: connected to itself, "
                   r"as nothing listens there and the port is in this host's ephemeral range "
                   r"\(net\.ipv4\.ip_local_port_range\); reset")
        self.assertRegex(reply.decode(), message)
        self.assertRegex(herd.log_path("Clark").read_text(errors="replace"), message)
        # Bound without SO_REUSEADDR, as a places service would start: a connection left in
        # TIME_WAIT on the port would make this fail.
        with socket_in(self.namespace) as service:
            service.bind(("127.0.0.1", places_port))
            service.listen()


if __name__ == "__main__":
    unittest.main()
