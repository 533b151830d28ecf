"""A battery of malformed input sent to a real server (PROTOCOL.md: Lines, Invalid lines):
wrong field counts, fields out of form and range, NUL bytes, invalid UTF-8, huge numbers,
nan and inf, misplaced signs, lower-case commands, server lines from a client, a 1 MiB
line and binary noise. Every reply is checked byte for byte, and the server must still
answer a valid IAMAT afterwards, on the same connection and on a new one."""
import random
import threading
import unittest
from typing import NamedTuple

from herdtest import at, client, fixtures
from herdtest.client import Connection

SERVER = "Clark"  # its neighbours are Jaquez and Juzang: no battery line names them in HERD
LIMIT = 16384
WHITE_SPACE = b" \t\r\x0b\x0c"
MIB = 1 << 20
IAMAT_TAIL = b" +34.068930-118.445127 1621464827.959498503"


class Case(NamedTuple):
    category: str
    sent: bytes  # terminators included
    expected: bytes  # every reply byte the server owes for `sent`


def replies_to(stream: bytes) -> bytes:
    """The replies PROTOCOL.md fixes for a stream none of whose lines is valid: lines end
    at `\\n` (a `\\r` before it is part of the terminator); a blank line gets nothing; a
    line over 16 KiB gets `? ` and its first 16 KiB; any other gets `? ` and itself."""
    *ended, last = stream.split(b"\n")
    lines = [line[:-1] if line.endswith(b"\r") else line for line in ended]
    if last:
        lines.append(last)
    replies = b""
    for line in lines:
        if len(line) > LIMIT:
            replies += b"? " + line[:LIMIT] + b"\n"
        elif line.strip(WHITE_SPACE):
            replies += b"? " + line + b"\n"
    return replies


def one_line(category: str, line: bytes) -> Case:
    return Case(category, line + b"\n", b"? " + line + b"\n")


def noise_cases() -> list:
    """Binary noise with a fixed seed, so a failure replays; some of it is newlines and
    white space, so it is many lines, blank ones among them."""
    rng = random.Random(0x5EED_0131)
    uniform = rng.randbytes(4096)
    terminators = bytes(rng.choice(b"\x00\r\n\t \x0b\x0c\xffA") for _ in range(2048))
    high = bytes(rng.randrange(0x80, 0x100) for _ in range(1024))  # no newline: one line
    cases = [Case("binary noise", block + b"\n", replies_to(block + b"\n"))
             for block in (uniform, terminators, high)]
    # Only the `\r` right before `\n` is a terminator; `\r\r\n` is a blank line, no reply.
    for sent in (b"junk\r\r\n", b"junk\r \n", b"\rjunk\n", b"\r\r\n", b"\x00\r\n"):
        cases.append(Case("terminators", sent, replies_to(sent)))
    return cases


def battery(known: bytes) -> list:
    """Lines each invalid by PROTOCOL.md; WHATSAT lines name a client the server knows, so
    only the field at fault makes them invalid."""
    k = b"WHATSAT " + known
    groups = {
        "field count": [
            b"IAMAT", b"IAMAT kiwi", b"IAMAT kiwi +34.068930-118.445127",
            b"IAMAT kiwi" + IAMAT_TAIL + b" extra", b"IAMAT kiwi +34.068930 -118.445127 1",
            b"WHATSAT", k, k + b" 10", k + b" 10 5 5", b"AT",
            b"AT Clark +0.263873386 kiwi +34.068930-118.445127",
        ],
        "location": [
            b"IAMAT kiwi 34.068930-118.445127 1621464827",
            b"IAMAT kiwi +34.068930-118.445127- 1621464827",
            b"IAMAT kiwi +90.000000001+0 1621464827", b"IAMAT kiwi -90.1-0 1621464827",
            b"IAMAT kiwi +0+180.000000000000000000001 1621464827",
            b"IAMAT kiwi +123+0 1621464827", b"IAMAT kiwi +1+1234 1621464827",
            b"IAMAT kiwi +1.+1 1621464827", b"IAMAT kiwi +.5+1 1621464827",
            b"IAMAT kiwi +1,5+1 1621464827",
            "IAMAT kiwi +१+1 1621464827".encode(),  # a Devanagari digit is no D
        ],
        "time": [
            b"IAMAT kiwi +1+1 16214648270", b"IAMAT kiwi +1+1 1621464827.1234567891",
            b"IAMAT kiwi +1+1 1621464827.", b"IAMAT kiwi +1+1 .5",
            b"IAMAT kiwi +1+1 1621464827,5", b"IAMAT kiwi +1+1 0x60A6A6FB",
            b"IAMAT kiwi +1+1 1.6e9",
        ],
        "radius": [k + b" 0 5", k + b" 0.000 5", k + b" 50.000000001 5", k + b" 00051 5",
                   k + b" .5 5", k + b" 5. 5", k + b" 1e1 5", k + b" 10km 5"],
        "bound": [k + b" 10 0", k + b" 10 21", k + b" 10 021", k + b" 10 00",
                  k + b" 10 5.0", k + b" 10 0x5"],
        "unknown client": [b"WHATSAT " + fixtures.unique("never-seen").encode() + b" 10 5"],
        "NUL byte": [
            b"\x00", b"\x00IAMAT kiwi +1+1 1621464827", b"IAMAT\x00kiwi +1+1 1621464827",
            b"IAMAT kiwi +1+1\x00 1621464827", b"IAMAT kiwi +1+1 1621464827\x00",
            k + b" 10\x00 5", k + b" 10 5\x00",
        ],
        "invalid UTF-8": [
            b"\xff\xfe\xfd\xfc", b"IAMAT kiwi +1+1 \xc3\x28", b"IAMAT kiwi +1\xc0\xaf+1 1621464827",
            k + b" 10 \xed\xa0\x80", b"\xc0\xafWHATSAT " + known + b" 10 5",
            # Separators outside the protocol's white space join fields instead.
            b"IAMAT\xa0kiwi +1+1 1621464827", b"IAMAT\xc2\xa0kiwi +1+1 1621464827",
            b"IAMAT\x85kiwi +1+1 1621464827", k + b"\xe3\x80\x8010 5",
        ],
        "huge number": [
            b"IAMAT kiwi +1+1 99999999999999999999999999999999",
            b"IAMAT kiwi +1+1 18446744073709551616",
            b"IAMAT kiwi +1+1 9999999999.9999999999",
            b"IAMAT kiwi +18446744073709551616+0 1621464827",
            b"IAMAT kiwi +0-" + b"9" * 400 + b" 1621464827",
            b"IAMAT kiwi +" + b"0" * 300 + b"1+0 1621464827",
            k + b" 18446744073709551616 5", k + b" 4294967346 5",  # 2**32 + 50
            k + b" 10 4294967301", k + b" 10 18446744073709551621",  # 2**32 + 5, 2**64 + 5
            k + b" 10 99999999999999999999999999999", k + b" 0." + b"0" * 300 + b" 5",
        ],
        "nan and inf": [
            b"IAMAT kiwi +nan+nan 1621464827", b"IAMAT kiwi +inf-inf 1621464827",
            b"IAMAT kiwi +1+1 nan", b"IAMAT kiwi +1+1 inf", b"IAMAT kiwi +1+1 NaN",
            b"IAMAT kiwi +1+1 infinity", b"IAMAT kiwi +1+1 -inf", k + b" nan 5",
            k + b" inf 5", k + b" NaN 5", k + b" Infinity 5", k + b" 10 nan", k + b" 10 inf",
        ],
        "misplaced sign": [
            b"IAMAT kiwi 34.068930+-118.445127 1621464827", b"IAMAT kiwi +-34+1 1621464827",
            b"IAMAT kiwi +34-+1 1621464827", b"IAMAT kiwi +34.0-1.+ 1621464827",
            b"IAMAT kiwi 34+1+ 1621464827", b"IAMAT kiwi +1+1 +1621464827",
            b"IAMAT kiwi +1+1 -1621464827", b"IAMAT kiwi +1+1 1621464827+",
            b"IAMAT kiwi +1+1 1621464827.-5", k + b" +10 5", k + b" -10 5", k + b" 10- 5",
            k + b" -0 5", k + b" 10 +5", k + b" 10 -5", k + b" 10 5-",
        ],
        "lower-case command": [
            b"iamat kiwi" + IAMAT_TAIL, b"Iamat kiwi" + IAMAT_TAIL, b"IAMAt kiwi" + IAMAT_TAIL,
            b"whatsat " + known + b" 10 5", b"WhatsAt " + known + b" 10 5",
            b"at Clark +0.263873386 kiwi" + IAMAT_TAIL, b"herd Jaquez", b"Herd Juzang",
        ],
        "server line from a client": [
            b"AT Clark +0.263873386 kiwi.cs.ucla.edu" + IAMAT_TAIL,
            b"AT Jaquez -1.000000000 kiwi +1+1 1621464827",
            # Would replace the known client's record if a client could send AT lines.
            b"AT Juzang +0.000000000 " + known + b" +1+1 9999999999.999999999",
            b"HERD Clark", b"HERD Bernard", b"HERD Nobody", b"HERD Jaquez extra",
            b"PROOF " + b"0" * 64, b"CHALLENGE " + b"0" * 32 + b" " + b"0" * 64,
        ],
    }
    cases = [one_line(category, line) for category, lines in groups.items() for line in lines]
    long_line = b"IAMAT " + b"x" * (MIB - len(b"IAMAT ") - len(IAMAT_TAIL)) + IAMAT_TAIL
    cases.append(Case("1 MiB line", long_line + b"\n", b"? " + long_line[:LIMIT] + b"\n"))
    return cases + noise_cases()


class MalformedInputTest(fixtures.HerdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.known = fixtures.unique("known").encode()
        cls.herd.iamat(SERVER, cls.known.decode(), "+34.068930-118.445127",
                       "1621464827.959498503")
        cls.known_record = cls.herd.record(SERVER, cls.known.decode())
        cls.cases = battery(cls.known)

    def valid_iamat(self):
        """A fresh IAMAT line and the echo its AT reply must carry."""
        echo = f"{fixtures.unique('after')} +1-2 {client.now_time()}".encode()
        return b"IAMAT " + echo + b"\n", echo

    def assert_answers_iamat(self, reply_line: bytes, echo: bytes):
        parsed = at.parse(reply_line)
        self.assertEqual((parsed.server, parsed.echo), (SERVER.encode(), echo), reply_line)

    def read_lines(self, conn: Connection, count: int) -> bytes:
        return b"".join(conn.read_line() for _ in range(count))

    def test_battery_is_big_enough(self):
        single_lines = [c for c in self.cases if c.sent.count(b"\n") == 1]
        self.assertGreaterEqual(len(single_lines), 60)
        noise = [c for c in self.cases if c.category == "binary noise"]
        self.assertGreater(sum(c.expected.count(b"\n") for c in noise), len(noise),
                           "noise with newlines is many lines")

    def test_each_case_alone_then_a_valid_iamat_on_the_same_connection(self):
        for case in self.cases:
            with self.subTest(category=case.category, sent=case.sent[:80]):
                iamat, echo = self.valid_iamat()
                with Connection(self.herd.port(SERVER)) as conn:
                    conn.send(case.sent + iamat)
                    got = self.read_lines(conn, case.expected.count(b"\n"))
                    self.assertEqual(got, case.expected)
                    # The next reply is the IAMAT's: nothing more came for the case.
                    self.assert_answers_iamat(conn.read_line(), echo)
        self.assertEqual(self.herd.record(SERVER, self.known.decode()), self.known_record)

    def test_battery_in_one_write_answered_in_order(self):
        iamat, echo = self.valid_iamat()
        stream = b"".join(case.sent for case in self.cases) + iamat
        expected = b"".join(case.expected for case in self.cases)
        with Connection(self.herd.port(SERVER)) as conn:
            # Written while the replies are read, so neither side waits on a full buffer.
            sender = threading.Thread(target=conn.send, args=(stream,))
            sender.start()
            try:
                got = self.read_lines(conn, expected.count(b"\n"))
                last = conn.read_line()
            finally:
                sender.join(timeout=30)
            self.assertEqual(got, expected)
            self.assert_answers_iamat(last, echo)

        iamat, echo = self.valid_iamat()
        with Connection(self.herd.port(SERVER)) as conn:
            conn.send(iamat)
            self.assert_answers_iamat(conn.read_line(), echo)
        self.assertEqual(self.herd.record(SERVER, self.known.decode()), self.known_record)


if __name__ == "__main__":
    unittest.main()
