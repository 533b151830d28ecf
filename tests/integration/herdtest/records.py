"""What servers hold, compared: the newer-record order of PROTOCOL.md, snapshots of many
clients on many servers, and waiting until a herd agrees."""
import concurrent.futures
import time
from typing import Optional

from . import at

Snapshot = dict  # {server: {client: AT line or None}}


def order_key(at_line: bytes) -> tuple[int, bytes]:
    """Records compare by client time, then by the AT line bytewise (PROTOCOL.md)."""
    client_time = at.parse(at_line).echo.rsplit(b" ", 1)[1].decode()
    return at.time_ns(client_time), at_line


def client_time_ns(at_line: bytes) -> int:
    return order_key(at_line)[0]


def at_least(held: Optional[bytes], floor: Optional[bytes]) -> bool:
    """Whether record `held` is `floor` or newer (anything is at least no record)."""
    if floor is None:
        return True
    return held is not None and order_key(held) >= order_key(floor)


def snapshot(herd, servers, clients) -> Snapshot:
    """What each of `servers` holds for each of `clients`, the servers asked at once."""
    clients = list(clients)
    servers = list(servers)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(servers)) as pool:
        held = pool.map(lambda server: herd.records(server, clients), servers)
        return dict(zip(servers, held))


def newest(snap: Snapshot, client: str) -> Optional[bytes]:
    held = [records[client] for records in snap.values() if records[client] is not None]
    return max(held, key=order_key) if held else None


Problem = tuple  # (client, what is wrong)


def agreement_problems(snap: Snapshot, floors: dict) -> list[Problem]:
    """Why `snap` is not converged: for each client (of `floors`), every server must hold
    the same record, and it must be at least `floors[client]` (None: any, even none)."""
    problems = []
    for client, floor in floors.items():
        held = {server: records[client] for server, records in snap.items()}
        if len(set(held.values())) != 1:
            problems.append((client, "servers differ: " + "; ".join(
                f"{server} holds {line!r}" for server, line in held.items())))
        elif not at_least(next(iter(held.values())), floor):
            problems.append((client, f"every server holds {next(iter(held.values()))!r}, "
                                     f"older than the acknowledged {floor!r}"))
    return problems


def exact_problems(snap: Snapshot, expected: dict) -> list[Problem]:
    """Why `snap` is not exactly `expected` ({client: AT line or None}) on every server."""
    problems = []
    for client, line in expected.items():
        wrong = {server: records[client] for server, records in snap.items()
                 if records[client] != line}
        if wrong:
            problems.append((client, f"expected {line!r}; " + "; ".join(
                f"{server} holds {held!r}" for server, held in wrong.items())))
    return problems


def wait_until(herd, servers, clients, problems_of, timeout: float, interval: float = 0.1):
    """Polls until `problems_of(snapshot)` is empty or `timeout` passes; only the clients
    with problems last time are asked again (the others are carried over, then checked
    once more in a full snapshot at the end). Returns (problems, seconds taken, snapshot)."""
    clients = list(clients)
    started = time.monotonic()
    deadline = started + timeout
    snap = snapshot(herd, servers, clients)
    while True:
        problems = problems_of(snap)
        if not problems:
            # A full look confirms that the carried-over clients still agree.
            snap = snapshot(herd, servers, clients)
            problems = problems_of(snap)
            if not problems:
                return [], time.monotonic() - started, snap
        if time.monotonic() >= deadline:
            return problems, time.monotonic() - started, snap
        time.sleep(interval)
        unsettled = list(dict.fromkeys(client for client, _ in problems))
        fresh = snapshot(herd, servers, unsettled or clients)
        for server in servers:
            snap[server].update(fresh[server])


def wait_for_exactly(test, herd, servers, expected: dict, timeout: float, message: str) -> None:
    """Waits until each of `servers` holds exactly `expected` ({client: AT line or None}),
    for at most `timeout` seconds, and fails `test` with `message` and what was wrong if
    they do not by then."""
    problems, _, _ = wait_until(herd, servers, expected,
                                lambda snap: exact_problems(snap, expected), timeout)
    assert_none(test, problems, message)


def describe(problems: list[Problem], limit: int = 40) -> str:
    text = "\n".join(f"{client}: {what}" for client, what in problems[:limit])
    if len(problems) > limit:
        text += f"\n... and {len(problems) - limit} more"
    return text


def assert_none(test, problems: list[Problem], message: str) -> None:
    """Fails `test` with `message` and the problems, one a line, if there are any."""
    if problems:
        test.fail(f"{message}:\n{describe(problems)}")


class SplitLedger:
    """What each side of a split herd should hold, and every update sent, for tests that
    cut a herd in two: while split, a side holds the records that were everywhere before
    and its own updates, and no record of a client only the other side heard of; once
    healed, every server holds each client's newest update, whichever side it came from."""

    def __init__(self, before: dict):
        self.sides = [dict(before), dict(before)]
        self.sent = {client: [line] for client, line in before.items()}

    def update(self, side: int, client: str, line: bytes) -> None:
        """Notes that side `side` acknowledged `line`, client `client`'s update."""
        for index, holds in enumerate(self.sides):
            if index == side:
                holds[client] = line
            else:
                holds.setdefault(client, None)
        self.sent.setdefault(client, []).append(line)

    def healed(self) -> dict:
        """What every server holds once the sides can reach each other again."""
        return {client: max(lines, key=order_key) for client, lines in self.sent.items()}
