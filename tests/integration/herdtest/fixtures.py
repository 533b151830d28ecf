"""unittest building blocks: a temp dir, the test CA, an upstream and a running herd,
each torn down however the test ends (HERD_KEEP_TMP=1 keeps the temp dirs)."""
import atexit
import os
import pathlib
import secrets
import shutil
import tempfile
import unittest
from typing import Optional

from . import certs
from . import env
from . import herd as herd_mod
from . import upstream as upstream_mod

_pki: Optional[certs.TestPki] = None


def make_tmpdir(prefix: str, add_cleanup) -> pathlib.Path:
    """A fresh temp dir; `add_cleanup` (addCleanup or addClassCleanup) removes it."""
    path = pathlib.Path(tempfile.mkdtemp(prefix=f"herd-itest-{prefix}-"))
    if not os.environ.get("HERD_KEEP_TMP"):
        add_cleanup(shutil.rmtree, path, True)
    return path


def test_pki() -> certs.TestPki:
    """One CA and server certificate per test process."""
    global _pki
    if _pki is None:
        directory = pathlib.Path(tempfile.mkdtemp(prefix="herd-itest-pki-"))
        atexit.register(shutil.rmtree, directory, True)
        _pki = certs.make_pki(directory)
    return _pki


def unique(prefix: str) -> str:
    """A client ID no other test uses."""
    return f"{prefix}-{secrets.token_hex(4)}"


DEFAULT_BODY = "supermarket-1-result.json"
# The timeout_ms of herds whose tests hold a places call until they release it: long
# enough that no held call times out first, however slowly a loaded machine (or a
# sanitizer build) runs the test's steps in between.
HELD_CALLS_TIMEOUT_MS = 30000


def set_up_herd(owner, name: str, add_cleanup) -> None:
    """Gives `owner` (a test case or its class) tmp, pki, upstream, config and herd, each
    torn down by `add_cleanup`; the herd is configured but not started."""
    owner.tmp = make_tmpdir(name, add_cleanup)
    owner.pki = test_pki()
    owner.upstream = upstream_mod.PlacesUpstream(owner.pki)
    add_cleanup(owner.upstream.close)
    owner.upstream.set_default(upstream_mod.body(env.sample(DEFAULT_BODY)))
    owner.config = herd_mod.HerdConfig(owner.tmp, owner.upstream.url, owner.pki.ca_file,
                                       timeout_ms=owner.timeout_ms)
    owner.herd = herd_mod.Herd(owner.config)
    add_cleanup(owner.herd.close)


class HerdTestCase(unittest.TestCase):
    """One HTTPS upstream and one linked five-server herd shared by the class's tests.
    Tests use their own client IDs, so they do not see each other's records."""

    timeout_ms = 1000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        set_up_herd(cls, cls.__name__, cls.addClassCleanup)
        cls.herd.start_all()

    def setUp(self):
        super().setUp()
        self.upstream.clear_routes()
        self.upstream.set_default(upstream_mod.body(env.sample(DEFAULT_BODY)))
        self.upstream.reset_log()


class FreshHerdTestCase(unittest.TestCase):
    """A herd of its own for each test, for tests that kill and restart servers."""

    timeout_ms = 1000

    def setUp(self):
        super().setUp()
        set_up_herd(self, type(self).__name__, self.addCleanup)
