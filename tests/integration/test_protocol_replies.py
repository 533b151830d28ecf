"""What a client sees for each kind of line it sends to one herd server (PROTOCOL.md:
Lines, IAMAT, WHATSAT, Invalid lines)."""
import unittest

from herdtest import at, client, fixtures
from herdtest.client import Connection, exchange

LONG_LIMIT = 16384


class IamatReplyTest(fixtures.HerdTestCase):
    def send_iamat(self, server: str, raw_line: bytes):
        """Sends one raw line on its own connection; returns (reply, before_ns, after_ns)."""
        with Connection(self.herd.port(server)) as conn:
            before = at.now_ns()
            conn.send(raw_line)
            reply = conn.read_line()
            after = at.now_ns()
        return reply, before, after

    def assert_at_reply(self, reply: bytes, server: str, echo: bytes, client_time: str,
                        before: int, after: int):
        parsed = at.parse(reply)
        self.assertTrue(reply.endswith(b"\n") and reply.count(b"\n") == 1, reply)
        self.assertEqual(parsed.server, server.encode(), reply)
        self.assertEqual(parsed.echo, echo, reply)
        sent = at.time_ns(client_time)
        self.assertGreaterEqual(parsed.difference_ns, before - sent - at.CLOCK_SLACK_NS, reply)
        self.assertLessEqual(parsed.difference_ns, after - sent + at.CLOCK_SLACK_NS, reply)
        sign = b"-" if parsed.difference_ns < 0 else b"+"
        self.assertEqual(reply.split(b" ")[2][:1], sign, reply)

    def test_reply_names_the_receiving_server_and_echoes_fields(self):
        for server in self.config.names:
            with self.subTest(server=server):
                client_id = fixtures.unique("kiwi.cs.ucla.edu")
                client_time = client.now_time()
                echo = f"{client_id} +34.068930-118.445127 {client_time}".encode()
                reply, before, after = self.send_iamat(server, b"IAMAT " + echo + b"\n")
                self.assert_at_reply(reply, server, echo, client_time, before, after)

    def test_time_forms(self):
        for client_time in ["1621464827.959498503", "1621464827", "1621464827.5", "0",
                            "0.000000001", "0000000001.100000000"]:
            with self.subTest(client_time=client_time):
                echo = f"{fixtures.unique('t')} +1-2 {client_time}".encode()
                reply, before, after = self.send_iamat("Clark", b"IAMAT " + echo + b"\n")
                self.assert_at_reply(reply, "Clark", echo, client_time, before, after)
                self.assertEqual(reply.split(b" ")[2][:1], b"+")

    def test_future_time_gives_negative_difference(self):
        future_ns = at.now_ns() + 1000 * 10**9
        client_time = f"{future_ns // 10**9}.{future_ns % 10**9:09d}"
        echo = f"{fixtures.unique('future')} +1-2 {client_time}".encode()
        reply, before, after = self.send_iamat("Jaquez", b"IAMAT " + echo + b"\n")
        self.assert_at_reply(reply, "Jaquez", echo, client_time, before, after)
        self.assertEqual(reply.split(b" ")[2][:1], b"-")

    def test_largest_time_handled_without_overflow(self):
        client_time = "9999999999.999999999"
        echo = f"{fixtures.unique('max')} -90+180 {client_time}".encode()
        reply, before, after = self.send_iamat("Bernard", b"IAMAT " + echo + b"\n")
        self.assert_at_reply(reply, "Bernard", echo, client_time, before, after)
        self.assertEqual(reply.split(b" ")[2][:1], b"-")

    def test_location_forms_at_the_edges_are_accepted(self):
        for location in ["+90-180", "-90+180", "+90.000+180.0000", "+0+0", "-0-0", "+00+000",
                         "+1-2", "-89.999999999999999999+179.99999999999999", "+34.068930-118.445127"]:
            with self.subTest(location=location):
                client_time = "1621464827.959498503"
                echo = f"{fixtures.unique('loc')} {location} {client_time}".encode()
                reply, before, after = self.send_iamat("Clark", b"IAMAT " + echo + b"\n")
                self.assert_at_reply(reply, "Clark", echo, client_time, before, after)

    def test_crlf_line(self):
        client_time = client.now_time()
        echo = f"{fixtures.unique('crlf')} +1-2 {client_time}".encode()
        reply, before, after = self.send_iamat("Clark", b"IAMAT " + echo + b"\r\n")
        self.assert_at_reply(reply, "Clark", echo, client_time, before, after)

    def test_any_white_space_between_fields_echoed_as_single_spaces(self):
        client_id = fixtures.unique("ws")
        client_time = client.now_time()
        line = f"IAMAT\t{client_id} \t  +34.068930-118.445127\x0b\x0c\r{client_time}\n".encode()
        reply, before, after = self.send_iamat("Clark", line)
        echo = f"{client_id} +34.068930-118.445127 {client_time}".encode()
        self.assert_at_reply(reply, "Clark", echo, client_time, before, after)

    def test_leading_and_trailing_white_space_ignored(self):
        client_id = fixtures.unique("lead")
        client_time = client.now_time()
        line = f" \t\x0c IAMAT {client_id} +1+2 {client_time} \t\x0b\r\n".encode()
        reply, before, after = self.send_iamat("Clark", line)
        self.assert_at_reply(reply, "Clark", f"{client_id} +1+2 {client_time}".encode(),
                             client_time, before, after)

    def test_utf8_client_id(self):
        client_id = fixtures.unique("kiwi-ü-日本-🥝")
        client_time = client.now_time()
        echo = f"{client_id} +1+2 {client_time}".encode()
        reply, before, after = self.send_iamat("Clark", b"IAMAT " + echo + b"\n")
        self.assert_at_reply(reply, "Clark", echo, client_time, before, after)


class LinesTest(fixtures.HerdTestCase):
    def iamat(self, tag: str):
        """(line, echo, client_time) of a fresh valid IAMAT."""
        client_time = client.now_time()
        echo = f"{fixtures.unique(tag)} +1+2 {client_time}".encode()
        return b"IAMAT " + echo + b"\n", echo, client_time

    def assert_replies(self, data: bytes, expected: list, server: str = "Clark"):
        """`expected` holds bytes (exact replies) or echoes (AT replies to check)."""
        lines = data.split(b"\n")
        self.assertEqual(lines[-1], b"", data)
        lines = [line + b"\n" for line in lines[:-1]]
        self.assertEqual(len(lines), len(expected), data)
        for got, want in zip(lines, expected):
            if want.startswith(b"? "):
                self.assertEqual(got, want)
            else:
                parsed = at.parse(got)
                self.assertEqual((parsed.server, parsed.echo), (server.encode(), want), got)

    def test_blank_lines_get_no_reply(self):
        line, echo, _ = self.iamat("blank")
        data = exchange(self.herd.port("Clark"), b"\n   \n\t\r\n\r\n\x0b\x0c \n" + line + b"\n\n")
        self.assert_replies(data, [echo])

    def test_pipelined_lines_answered_in_order(self):
        lines, expected = b"", []
        for i in range(8):
            line, echo, _ = self.iamat(f"pipe{i}")
            lines += line
            expected.append(echo)
            if i % 3 == 1:
                lines += f"NOPE {i}\n".encode()
                expected.append(f"? NOPE {i}\n".encode())
        with Connection(self.herd.port("Clark")) as conn:
            conn.send(lines)
            got = b"".join(conn.read_line() for _ in expected)
            self.assertFalse(conn.eof)
        self.assert_replies(got, expected)

    def test_one_connection_per_line(self):
        for i in range(5):
            line, echo, _ = self.iamat(f"single{i}")
            with Connection(self.herd.port("Clark")) as conn:
                conn.send(line)
                self.assert_replies(conn.read_line(), [echo])

    def test_last_line_without_newline_answered_at_eof(self):
        line, echo, _ = self.iamat("noeol")
        data = exchange(self.herd.port("Clark"), line[:-1])
        self.assert_replies(data, [echo])
        data = exchange(self.herd.port("Clark"), b"BOGUS  line\t")
        self.assertEqual(data, b"? BOGUS  line\t\n")

    def test_half_close_gets_every_reply_then_eof(self):
        first, echo1, _ = self.iamat("half1")
        second, echo2, _ = self.iamat("half2")
        data = exchange(self.herd.port("Johnson"), first + b"what?\n" + second + b"\n")
        self.assert_replies(data, [echo1, b"? what?\n", echo2], server="Johnson")

    def test_line_of_exactly_16_kib_is_processed(self):
        # Client IDs have a length limit of their own, so the line is long with white space.
        fields = f"{fixtures.unique('long')} +1+2 1621464827"
        padding = LONG_LIMIT - len("IAMAT") - len(fields)
        line = ("IAMAT" + " " * (padding - 1) + "\t" + fields).encode()
        self.assertEqual(len(line), LONG_LIMIT)
        for terminator in (b"\n", b"\r\n"):
            with self.subTest(terminator=terminator):
                data = exchange(self.herd.port("Clark"), line + terminator)
                self.assert_replies(data, [fields.encode()])

    def test_longer_line_is_cut_and_connection_kept(self):
        next_line, echo, _ = self.iamat("afterlong")
        tail = " +1+2 1621464827"
        for length in (LONG_LIMIT + 1, LONG_LIMIT + 2, 3 * LONG_LIMIT, 100_000):
            with self.subTest(length=length):
                client_id = "z" * (length - len("IAMAT ") - len(tail))
                line = f"IAMAT {client_id}{tail}".encode()
                self.assertEqual(len(line), length)
                with Connection(self.herd.port("Clark")) as conn:
                    conn.send(line + b"\n")
                    self.assertEqual(conn.read_line(), b"? " + line[:LONG_LIMIT] + b"\n")
                    conn.send(next_line)
                    self.assert_replies(conn.read_line(), [echo])


class InvalidLinesTest(fixtures.HerdTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.known = fixtures.unique("known")
        cls.herd.iamat("Clark", cls.known, "+34.068930-118.445127", "1621464827.959498503")

    def invalid_lines(self) -> list:
        k = self.known
        lines = [
            # commands
            "HELLO world", "iamat kiwi +1+1 1621464827", "Iamat kiwi +1+1 1621464827",
            "whatsat " + k + " 10 5", "IAMATX kiwi +1+1 1", "IAMAT", "WHATSAT", "?", "x",
            "AT Clark +0.263873386 kiwi +34.06-118.44 1621464827.959498503",
            "HERD Nobody", "HERD", "HERD Nobody extra",
            # field counts
            "IAMAT kiwi +1+1", "IAMAT kiwi +1+1 1621464827 extra", "IAMAT kiwi",
            f"WHATSAT {k} 10", f"WHATSAT {k} 10 5 extra", f"WHATSAT {k}",
            # locations
            "IAMAT kiwi 34.068930-118.445127 1", "IAMAT kiwi +34.068930 1",
            "IAMAT kiwi +34.068930-118.445127+1 1", "IAMAT kiwi +90.0001+0 1",
            "IAMAT kiwi -90.0001+0 1", "IAMAT kiwi +0+180.0001 1", "IAMAT kiwi +0-180.0001 1",
            "IAMAT kiwi +90.000000000000000001+0 1", "IAMAT kiwi +0+180.000000000000000001 1",
            "IAMAT kiwi +91+0 1", "IAMAT kiwi +0-181 1", "IAMAT kiwi +123+0 1",
            "IAMAT kiwi +1+1234 1", "IAMAT kiwi +1.+1 1", "IAMAT kiwi +.5+1 1",
            "IAMAT kiwi +1+1. 1", "IAMAT kiwi +1e1+1 1", "IAMAT kiwi ++1+1 1",
            "IAMAT kiwi +1,+1 1", "IAMAT kiwi +a+b 1", "IAMAT kiwi +1-2x 1", "IAMAT kiwi +1 1",
            "IAMAT kiwi +1-2- 1", "IAMAT kiwi + 1",
            # times
            "IAMAT kiwi +1+1 +1621464827", "IAMAT kiwi +1+1 -1621464827",
            "IAMAT kiwi +1+1 1.6e9", "IAMAT kiwi +1+1 1e9", "IAMAT kiwi +1+1 1621464827e0",
            "IAMAT kiwi +1+1 16214648270", "IAMAT kiwi +1+1 1621464827.1234567890",
            "IAMAT kiwi +1+1 1621464827.", "IAMAT kiwi +1+1 .5",
            "IAMAT kiwi +1+1 1621464827.5.5", "IAMAT kiwi +1+1 abc", "IAMAT kiwi +1+1 0x10",
            "IAMAT kiwi +1+1 99999999999.999999999",
            # radius
            f"WHATSAT {k} 0 5", f"WHATSAT {k} 0.0 5", f"WHATSAT {k} 50.0001 5",
            f"WHATSAT {k} 51 5", f"WHATSAT {k} .5 5", f"WHATSAT {k} +10 5",
            f"WHATSAT {k} 1e1 5", f"WHATSAT {k} 10. 5", f"WHATSAT {k} -1 5",
            f"WHATSAT {k} 10km 5", f"WHATSAT {k} 50.000000000000000001 5",
            # bound
            f"WHATSAT {k} 10 0", f"WHATSAT {k} 10 21", f"WHATSAT {k} 10 +5",
            f"WHATSAT {k} 10 5.0", f"WHATSAT {k} 10 -1", f"WHATSAT {k} 10 1e1",
            f"WHATSAT {k} 10 99999999999999999999999",
            # unknown client
            "WHATSAT " + fixtures.unique("never-seen") + " 10 5",
        ]
        return [line.encode() for line in lines]

    def test_each_invalid_line_is_echoed_with_a_question_mark(self):
        for line in self.invalid_lines():
            with self.subTest(line=line):
                with Connection(self.herd.port("Clark")) as conn:
                    conn.send(line + b"\n")
                    self.assertEqual(conn.read_line(), b"? " + line + b"\n")

    def test_echo_keeps_the_line_as_received(self):
        cases = {
            b"FOO  bar\tbaz\n": b"? FOO  bar\tbaz\n",
            b"  FOO bar \t\r\n": b"?   FOO bar \t\n",
            b"IAMAT\tkiwi  +91+0\t1\n": b"? IAMAT\tkiwi  +91+0\t1\n",
            "WHATSAT ünknown-ü 10 5\n".encode(): "? WHATSAT ünknown-ü 10 5\n".encode(),
            b"\xff\xfe bad utf8\n": b"? \xff\xfe bad utf8\n",
        }
        for sent, expected in cases.items():
            with self.subTest(sent=sent):
                self.assertEqual(exchange(self.herd.port("Jaquez"), sent), expected)

    def test_invalid_lines_pipelined_with_valid_ones(self):
        lines = self.invalid_lines()[:10]
        data = exchange(self.herd.port("Clark"), b"\n".join(lines) + b"\n")
        self.assertEqual(data, b"".join(b"? " + line + b"\n" for line in lines))

    def test_valid_whatsat_edges_are_answered(self):
        stored = self.herd.record("Clark", self.known)
        self.assertIsNotNone(stored)
        for radius, bound in [("50", 1), ("0.001", 20), ("50.000", 3), ("10", 20), ("007", 1)]:
            with self.subTest(radius=radius, bound=bound):
                reply = self.herd.whatsat("Clark", self.known, radius, bound)
                self.assertTrue(reply.startswith(stored + b"\n{\n"), reply[:200])
                self.assertTrue(reply.endswith(b"\n}\n\n"), reply[-50:])


if __name__ == "__main__":
    unittest.main()
