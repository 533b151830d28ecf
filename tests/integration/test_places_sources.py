"""The places sources and the herd's frugality with a paid upstream: `source = "google-new"`
against a local HTTPS stand-in for Google's Places API (New), which checks what it is sent;
identical concurrent WHATSATs sharing one upstream call; the call limit answering
OVER_QUERY_LIMIT without a call."""
import json
import pathlib
import threading
import time
import unittest

from herdtest import env, fixtures, places
from herdtest import herd as herd_mod
from herdtest import upstream as up
from herdtest.client import Connection

NEW_PATH = "/v1/places:searchNearby"
LOCATION = "+34.068930-118.445127"
FIELD_MASK = ("places.businessStatus,places.currentOpeningHours,places.displayName,"
              "places.formattedAddress,places.iconBackgroundColor,places.iconMaskBaseUri,"
              "places.id,places.location,places.plusCode,places.priceLevel,places.rating,"
              "places.shortFormattedAddress,places.types,places.userRatingCount,"
              "places.viewport")

# Two places as Google's Places API (New) answers them (the second with few fields).
NEW_ANSWER = json.dumps({
    "places": [
        {
            "id": "ChIJ3wz6s4u8woARgdbsWJQoJ9E",
            "types": ["library", "point_of_interest", "establishment"],
            "formattedAddress": "280 Charles E Young Dr N, Los Angeles, CA 90095, USA",
            "location": {"latitude": 34.0752, "longitude": -118.4415},
            "viewport": {"low": {"latitude": 34.0738, "longitude": -118.4428},
                         "high": {"latitude": 34.0765, "longitude": -118.4401}},
            "rating": 4.7,
            "userRatingCount": 233,
            "businessStatus": "OPERATIONAL",
            "priceLevel": "PRICE_LEVEL_FREE",
            "displayName": {"text": "Powell Library", "languageCode": "en"},
            "shortFormattedAddress": "280 Charles E Young Dr N, Los Angeles",
        },
        {
            "id": "ChIJ-second",
            "location": {"latitude": 34.07, "longitude": -118.44},
            "displayName": {"text": "Royce Hall"},
        },
    ]
}, indent=2).encode()

# What a client must get: the same places in the legacy schema and Google's legacy layout,
# written out by hand.
LEGACY_BODY = b"""{
   "html_attributions" : [],
   "results" : [
      {
         "business_status" : "OPERATIONAL",
         "geometry" : {
            "location" : {
               "lat" : 34.0752,
               "lng" : -118.4415
            },
            "viewport" : {
               "northeast" : {
                  "lat" : 34.0765,
                  "lng" : -118.4401
               },
               "southwest" : {
                  "lat" : 34.0738,
                  "lng" : -118.4428
               }
            }
         },
         "name" : "Powell Library",
         "place_id" : "ChIJ3wz6s4u8woARgdbsWJQoJ9E",
         "price_level" : 0,
         "rating" : 4.7,
         "types" : [ "library", "point_of_interest", "establishment" ],
         "user_ratings_total" : 233,
         "vicinity" : "280 Charles E Young Dr N, Los Angeles"
      },
      {
         "geometry" : {
            "location" : {
               "lat" : 34.07,
               "lng" : -118.44
            }
         },
         "name" : "Royce Hall",
         "place_id" : "ChIJ-second"
      }
   ],
   "status" : "OK"
}
"""


def legacy_error(status: str, message: str) -> bytes:
    return up.status_body(status, message)


def one_server_herd(test: unittest.TestCase, upstream: up.PlacesUpstream, **settings) -> herd_mod.Herd:
    """Clark alone, its places source set by `settings` ([places] keys, TOML literals)."""
    tmp = fixtures.make_tmpdir("sources", test.addCleanup)
    config = herd_mod.HerdConfig(tmp, upstream.url, fixtures.test_pki().ca_file,
                                 timeout_ms=5000, names=["Clark"], links={"Clark": []})
    config.places_settings.update(settings)
    herd = herd_mod.Herd(config)
    test.addCleanup(herd.close)
    herd.start("Clark")
    return herd


class SourceChoiceTest(unittest.TestCase):
    def test_auto_without_a_key_is_offline(self):
        data = pathlib.Path(env.herd_binary()).resolve().parent.parent / "data" / "places.dat"
        self.assertTrue(data.exists(), f"no offline places file at {data}: the build makes it")
        upstream = up.PlacesUpstream(fixtures.test_pki())
        self.addCleanup(upstream.close)
        tmp = fixtures.make_tmpdir("auto", self.addCleanup)
        config = herd_mod.HerdConfig(tmp, upstream.url, fixtures.test_pki().ca_file,
                                     names=["Clark"], links={"Clark": []})
        config.key_file = tmp / "empty.key"
        config.key_file.write_text("\n")
        herd = herd_mod.Herd(config)
        self.addCleanup(herd.close)
        herd.start("Clark")
        client_id = fixtures.unique("auto")
        at_line = herd.iamat("Clark", client_id, LOCATION)
        reply = herd.whatsat("Clark", client_id, "10", 3)
        self.assertTrue(reply.startswith(at_line + b"\n{\n"), reply)
        body = json.loads(reply[len(at_line) + 1:])
        self.assertEqual(body["status"], "OK")
        self.assertTrue(1 <= len(body["results"]) <= 3, body)
        self.assertEqual(upstream.requests(), [])
        # UCLA's neighbours, from GeoNames: Century City and Westwood are within 3 km.
        ucla = fixtures.unique("ucla")
        at_line = herd.iamat("Clark", ucla, "+34.068930-118.445127")
        reply = herd.whatsat("Clark", ucla, "3", 20)
        self.assertTrue(reply.startswith(at_line + b"\n{\n"), reply)
        self.assertTrue(reply.endswith(b"\n}\n\n"), reply)
        names = [place["name"] for place in json.loads(reply[len(at_line) + 1:])["results"]]
        self.assertIn("Westwood", names)
        self.assertIn("Century City", names)
        log = herd.log_path("Clark").read_bytes()
        self.assertIn(f"places source: offline, places file {data}".encode(), log)
        self.assertIn(b"places.source = auto and no API key in places.key_file", log)

    def test_offline_without_its_file_is_refused_at_start(self):
        tmp = fixtures.make_tmpdir("offline", self.addCleanup)
        missing = tmp / "no-such-places.dat"
        config = herd_mod.HerdConfig(tmp, "https://127.0.0.1:9/unused", None,
                                     names=["Clark"], links={"Clark": []})
        config.places_settings.update(source='"offline"',
                                      offline_data=herd_mod.toml_string(str(missing)))
        path = config.write()
        result = herd_mod.run_to_exit(config, config.serve_command("Clark"))
        self.assertEqual(result.returncode, 2, result)
        self.assertIn(f"{path}: places.offline_data: ".encode(), result.stderr)
        self.assertIn(str(missing).encode(), result.stderr)
        self.assertFalse(herd_mod.port_accepts(config.ports["Clark"]))


class GoogleNewTest(unittest.TestCase):
    def setUp(self):
        self.upstream = up.PlacesUpstream(fixtures.test_pki())
        self.addCleanup(self.upstream.close)
        self.upstream.set_default(up.body(NEW_ANSWER))
        new_url = f"https://127.0.0.1:{self.upstream.port}{NEW_PATH}"
        self.herd = one_server_herd(self, self.upstream, source='"google-new"',
                                    new_url=herd_mod.toml_string(new_url))
        self.client_id = fixtures.unique("new")
        self.at_line = self.herd.iamat("Clark", self.client_id, LOCATION)

    def test_asks_with_post_key_field_mask_and_circle(self):
        for radius, metres in (("10", "10000"), ("0.0001", "0.1"), ("12.3456789", "12345.6789")):
            with self.subTest(radius=radius):
                self.upstream.reset_log()
                self.herd.whatsat("Clark", self.client_id, radius, 1)
                requests = self.upstream.wait_for_requests(1, 5)
                self.assertEqual(len(requests), 1, requests)
                request = requests[0]
                self.assertEqual(request.method, "POST")
                self.assertEqual(request.target, NEW_PATH)
                self.assertEqual(request.headers.get("x-goog-api-key"), self.herd.config.key)
                self.assertEqual(request.headers.get("x-goog-fieldmask"), FIELD_MASK)
                self.assertEqual(request.headers.get("content-type"), "application/json")
                self.assertEqual(request.body, (
                    '{"locationRestriction":{"circle":{"center":{"latitude":34.068930,'
                    '"longitude":-118.445127},"radius":' + metres + '}},"maxResultCount":20}'
                ).encode())
                body = json.loads(request.body)
                self.assertEqual(body["locationRestriction"]["circle"]["radius"], float(metres))
                self.assertNotIn(self.herd.config.key, request.target)
        log = self.herd.log_path("Clark").read_bytes()
        self.assertIn(b"places source: Google Places API (New) Nearby Search at https://127.0.0.1:", log)
        self.assertIn(b"places.source = google-new", log)
        self.assertNotIn(self.herd.config.key.encode(), self.herd.all_output())

    def test_client_gets_the_legacy_body(self):
        for bound in (1, 2, 20):
            with self.subTest(bound=bound):
                reply = self.herd.whatsat("Clark", self.client_id, "10", bound)
                self.assertEqual(reply, places.whatsat_reply(self.at_line, LEGACY_BODY, bound))
        self.assertEqual(self.herd.whatsat("Clark", self.client_id, "10", 20),
                         self.at_line + b"\n" + LEGACY_BODY[:-1] + b"\n\n")

    def test_no_places_is_zero_results(self):
        self.upstream.set_default(up.body(b"{}\n"))
        self.assertEqual(self.herd.whatsat("Clark", self.client_id, "10", 5),
                         self.at_line + b"\n" + up.status_body("ZERO_RESULTS")[:-1] + b"\n\n")

    def test_http_errors_become_legacy_statuses_with_googles_message(self):
        cases = [(403, "PERMISSION_DENIED", "API key not valid. Please pass a valid API key.",
                  "REQUEST_DENIED"),
                 (400, "INVALID_ARGUMENT", "Invalid request: radius out of range.",
                  "INVALID_REQUEST"),
                 (429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'SearchNearby'.",
                  "OVER_QUERY_LIMIT"),
                 (500, "INTERNAL", "Internal error encountered.", "UNKNOWN_ERROR")]
        for code, google_status, message, legacy in cases:
            with self.subTest(code=code):
                error = json.dumps({"error": {"code": code, "message": message,
                                              "status": google_status}}).encode()
                self.upstream.set_default(up.Answer(status=code, body=error))
                reply = self.herd.whatsat("Clark", self.client_id, "10", 5)
                self.assertEqual(reply, self.at_line + b"\n" +
                                 legacy_error(legacy, message)[:-1] + b"\n\n")

    def test_answer_that_is_not_json_is_unknown_error(self):
        self.upstream.set_default(up.garbage())
        reply = self.herd.whatsat("Clark", self.client_id, "10", 5)
        self.assertTrue(places.is_unknown_error_reply(reply, self.at_line), reply)


class CoalescingTest(unittest.TestCase):
    CLIENTS = 8

    def test_identical_concurrent_whatsats_make_one_upstream_call(self):
        upstream = up.PlacesUpstream(fixtures.test_pki())
        self.addCleanup(upstream.close)
        release = threading.Event()
        self.addCleanup(release.set)
        upstream.set_default(up.held(NEW_ANSWER, release))
        new_url = f"https://127.0.0.1:{upstream.port}{NEW_PATH}"
        herd = one_server_herd(self, upstream, source='"google-new"',
                               new_url=herd_mod.toml_string(new_url))
        client_id = fixtures.unique("same")
        at_line = herd.iamat("Clark", client_id, LOCATION)

        connections = [Connection(herd.port("Clark")) for _ in range(self.CLIENTS)]
        for conn in connections:
            self.addCleanup(conn.close)
        for bound, conn in enumerate(connections, start=1):
            conn.send(f"WHATSAT {client_id} 10 {bound}\n".encode())
        self.assertEqual(len(upstream.wait_for_requests(1)), 1)
        # Every WHATSAT has reached the server once its log shows it; then it is waiting on
        # the call under way (a moment's grace for the step from the log to the source).
        deadline = time.monotonic() + 10
        while (herd.log_path("Clark").read_bytes().count(f"< WHATSAT {client_id} 10 ".encode())
               < self.CLIENTS and time.monotonic() < deadline):
            time.sleep(0.02)
        time.sleep(0.3)
        release.set()

        for bound, conn in enumerate(connections, start=1):
            with self.subTest(bound=bound):
                self.assertEqual(conn.read_whatsat(timeout=10),
                                 places.whatsat_reply(at_line, LEGACY_BODY, bound))
        self.assertEqual(len(upstream.requests()), 1, upstream.requests())


class CallLimitTest(unittest.TestCase):
    def test_past_the_limit_the_client_gets_over_query_limit_and_no_call_is_made(self):
        upstream = up.PlacesUpstream(fixtures.test_pki())
        self.addCleanup(upstream.close)
        sample = up.status_body("ZERO_RESULTS")
        upstream.set_default(up.body(sample))
        herd = one_server_herd(self, upstream, max_calls_per_second="1", burst="1")
        client_id = fixtures.unique("limit")
        at_line = herd.iamat("Clark", client_id, LOCATION)
        limited = at_line + b"\n" + legacy_error(
            "OVER_QUERY_LIMIT",
            "herd's limit of 1 places calls per second reached; no call made")[:-1] + b"\n\n"
        answered = at_line + b"\n" + sample[:-1] + b"\n\n"
        # Five calls in well under the four seconds that would refill four tokens.
        replies = [herd.whatsat("Clark", client_id, radius, 1) for radius in ("1", "2", "3", "4", "5")]
        self.assertEqual(replies[0], answered)
        self.assertIn(limited, replies)
        for reply in replies:
            self.assertIn(reply, (answered, limited))
        self.assertEqual(len(upstream.requests()), replies.count(answered))


if __name__ == "__main__":
    unittest.main()
