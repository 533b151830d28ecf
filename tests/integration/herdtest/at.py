"""Reading AT replies: the server name, the signed nanosecond difference, the echo."""
import re
import time
from typing import NamedTuple

AT_REPLY = re.compile(rb"AT (\S+) ([+-])(\d+)\.(\d{9}) (.*)")
CLIENT_TIME = re.compile(r"(\d{1,10})(?:\.(\d{1,9}))?")


class AtReply(NamedTuple):
    server: bytes
    difference_ns: int
    echo: bytes


def parse(line: bytes) -> AtReply:
    match = AT_REPLY.fullmatch(line[:-1] if line.endswith(b"\n") else line)
    if match is None:
        raise AssertionError(f"not an AT reply: {line!r}")
    server, sign, whole, fraction, echo = match.groups()
    if len(whole) > 1 and whole.startswith(b"0"):
        raise AssertionError(f"difference with a leading zero: {line!r}")
    magnitude = int(whole) * 10**9 + int(fraction)
    return AtReply(server, -magnitude if sign == b"-" else magnitude, echo)


def time_ns(client_time: str) -> int:
    """A client time `D{1,10}(.D{1,9})?` in whole nanoseconds, exactly."""
    match = CLIENT_TIME.fullmatch(client_time)
    if match is None:
        raise ValueError(client_time)
    whole, fraction = match.groups()
    return int(whole) * 10**9 + int((fraction or "").ljust(9, "0"))


# The server reads its clock between our two readings; the same clock (CLOCK_REALTIME) on
# the same machine, so only clock granularity needs room.
CLOCK_SLACK_NS = 1_000_000


def now_ns() -> int:
    return time.time_ns()
