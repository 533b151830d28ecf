"""Checks the harness itself (no herd needed): the test CA, the places upstream, the
expected-reply logic the other tests rely on, and how a sanitizer's report is shown."""
import http.client
import json
import ssl
import threading
import time
import unittest

from herdtest import env, fixtures, places
from herdtest import herd as herd_mod
from herdtest import upstream as up


class ExpectedRepliesTest(unittest.TestCase):
    def test_bounded_keeps_first_results_in_googles_layout(self):
        text = env.sample("bank-3-results.json")
        whole = json.loads(text)
        self.assertEqual(len(places.result_spans(text)), 3)
        for bound in (1, 2):
            cut = places.bounded(text, bound)
            parsed = json.loads(cut)
            self.assertEqual(parsed["results"], whole["results"][:bound])
            self.assertEqual({k: v for k, v in parsed.items() if k != "results"},
                             {k: v for k, v in whole.items() if k != "results"})
            self.assertTrue(cut.endswith(b'      }\n   ],\n   "status" : "OK"\n}\n'), cut[-60:])
        self.assertEqual(places.bounded(text, 3), text)
        self.assertEqual(places.bounded(text, 20), text)

    def test_newline_rule(self):
        self.assertEqual(places.newline_rule(b"{\n\n\n   \"a\" : 1\n\n}\n\n\n"), b"{\n   \"a\" : 1\n}")
        self.assertEqual(places.newline_rule(b"{}\n"), b"{}")

    def test_unknown_error_shape(self):
        at = b"AT Clark +0.000000001 c +1+1 1"
        body = up.status_body("UNKNOWN_ERROR", "places source timed out")
        self.assertTrue(places.is_unknown_error_reply(at + b"\n" + body[:-1] + b"\n\n", at))
        self.assertFalse(places.is_unknown_error_reply(at + b"\n" + body + b"\n\n", at))
        denied = up.status_body("REQUEST_DENIED", "bad key")
        self.assertFalse(places.is_unknown_error_reply(at + b"\n" + denied[:-1] + b"\n\n", at))
        self.assertFalse(places.is_unknown_error_reply(
            at + b"\n" + up.status_body("UNKNOWN_ERROR", "")[:-1] + b"\n\n", at))


class HerdConfigTest(unittest.TestCase):
    def config(self):
        tmp = fixtures.make_tmpdir("config", self.addCleanup)
        config = herd_mod.HerdConfig(tmp, "https://127.0.0.1:9/x", None)
        return config

    def test_store_section_written_once_with_an_absolute_dir(self):
        config = self.config()
        config.store_settings["durability"] = '"synced"'
        config.sections["store"] = {"ttl_s": "3"}
        config.sections["limits"] = {"max_connections": "3"}
        text = config.text()
        self.assertEqual(text.count("[store]\n"), 1, text)
        store = text.split("[store]\n", 1)[1].split("\n\n", 1)[0].splitlines()
        self.assertEqual(store, [f'dir = "{config.data_dir}"', 'durability = "synced"', "ttl_s = 3"])
        self.assertTrue(config.data_dir.is_absolute())
        self.assertIn("[limits]\nmax_connections = 3\n", text)
        self.assertEqual(herd_mod.Herd(config).data_file("Clark"), config.data_dir / "Clark.db")

    def test_store_keys_set_twice_or_dir_refused(self):
        config = self.config()
        config.store_settings["ttl_s"] = "3"
        config.sections["store"] = {"ttl_s": "4"}
        with self.assertRaises(ValueError):
            config.text()
        config = self.config()
        config.sections["store"] = {"dir": '"elsewhere"'}
        with self.assertRaises(ValueError):
            config.text()


class UpstreamTest(unittest.TestCase):
    def setUp(self):
        self.pki = fixtures.test_pki()
        self.upstream = up.PlacesUpstream(self.pki)
        self.addCleanup(self.upstream.close)
        self.context = ssl.create_default_context(cafile=str(self.pki.ca_file))

    def connect(self, host="127.0.0.1"):
        conn = http.client.HTTPSConnection(host, self.upstream.port, context=self.context, timeout=5)
        self.addCleanup(conn.close)
        return conn

    def get(self, conn, query):
        conn.request("GET", f"{up.NEARBY_PATH}?{query}")
        response = conn.getresponse()
        return response.status, response.read()

    def test_tls_with_test_ca_keep_alive_and_recording(self):
        sample = env.sample("bank-3-results.json")
        self.upstream.set_default(up.body(sample))
        conn = self.connect()
        self.assertEqual(self.get(conn, "location=1.5,-2&radius=0.1&key=K"), (200, sample))
        self.assertEqual(self.get(conn, "location=1.5%2C-2&radius=10000&key=K"), (200, sample))
        other = self.connect("localhost")
        self.assertEqual(self.get(other, "location=3,4&radius=1&key=K")[0], 200)
        requests = self.upstream.requests()
        self.assertEqual([r.connection for r in requests], [1, 1, 2])
        self.assertEqual([r.param("location") for r in requests], ["1.5,-2", "1.5,-2", "3,4"])
        self.assertEqual(requests[0].param("radius"), "0.1")
        self.assertEqual(requests[0].path, up.NEARBY_PATH)

    def test_untrusted_client_fails_handshake(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.upstream.port,
                                           context=ssl.create_default_context(), timeout=5)
        with self.assertRaises(ssl.SSLError):
            conn.request("GET", up.NEARBY_PATH)
        conn.close()
        self.assertTrue(self.upstream.wait_for_handshake_failure())
        self.assertEqual(self.upstream.requests(), [])

    def test_modes_by_route(self):
        self.upstream.set_default(up.http_error())
        self.upstream.route(up.garbage(), radius="1")
        self.upstream.route(up.slow(b"{}\n", 0.5), location="9,9")
        conn = self.connect()
        self.assertEqual(self.get(conn, "location=0,0&radius=2")[0], 500)
        self.assertEqual(self.get(conn, "location=0,0&radius=1"), (200, b"this is <not> JSON {\n"))
        started = time.monotonic()
        self.assertEqual(self.get(conn, "location=9,9&radius=2"), (200, b"{}\n"))
        self.assertGreaterEqual(time.monotonic() - started, 0.5)

    def test_waiting_for_more_requests_than_came_raises_and_names_them(self):
        conn = self.connect()
        self.get(conn, "location=1,2&radius=3")
        self.assertEqual(len(self.upstream.wait_for_requests(1)), 1)
        with self.assertRaises(TimeoutError) as raised:
            self.upstream.wait_for_requests(2, 0.2)
        self.assertIn(f"1 of 2 requests within 0.2 s: ['GET {up.NEARBY_PATH}']",
                      str(raised.exception))
        self.upstream.reset_log()
        with self.assertRaises(TimeoutError):
            self.upstream.wait_for_requests(1, 0.1)

    def test_held_answer_waits_for_release(self):
        release = threading.Event()
        self.upstream.set_default(up.held(b"{}\n", release))
        results = []
        thread = threading.Thread(target=lambda: results.append(self.get(self.connect(), "x=1")))
        thread.start()
        self.assertEqual(len(self.upstream.wait_for_requests(1)), 1)
        time.sleep(0.2)
        self.assertEqual(results, [])
        release.set()
        thread.join(5)
        self.assertEqual(results, [(200, b"{}\n")])

    def test_plain_http(self):
        plain = up.PlacesUpstream(None)
        self.addCleanup(plain.close)
        self.assertTrue(plain.url.startswith("http://127.0.0.1:"))
        plain.set_default(up.body(b"{}\n"))
        conn = http.client.HTTPConnection("127.0.0.1", plain.port, timeout=5)
        self.addCleanup(conn.close)
        self.assertEqual(self.get(conn, "a=b"), (200, b"{}\n"))


class SanitizerReportTest(unittest.TestCase):
    def test_no_report_is_empty(self):
        self.assertEqual(herd_mod.sanitizer_report(b"2026-11-23 INFO Clark listening\n"), "")

    def test_a_report_keeps_its_frames_short(self):
        frame = "    #0 void boost::asio::f<" + "x" * 3000 + ">() /usr/include/f.hpp:1:2 (herd+0x1)"
        stderr = ("INFO before\n==7==ERROR: AddressSanitizer: heap-use-after-free\n" + frame +
                  " (BuildId: 0123abcd)\n" + "    #1 main\n" * 100).encode()
        report = herd_mod.sanitizer_report(stderr, lines=4, width=80).split("\n")
        self.assertEqual(report[0], "==7==ERROR: AddressSanitizer: heap-use-after-free")
        self.assertEqual(report[1], frame[:40] + " ... " + frame[-40:])
        self.assertEqual(report[2:], ["    #1 main"] * 2)


if __name__ == "__main__":
    unittest.main()
