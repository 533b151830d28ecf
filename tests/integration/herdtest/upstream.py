"""A local stand-in for Google Places' legacy Nearby Search, over HTTPS (or plain HTTP).

It records every request (path, decoded query, raw target, which connection carried it)
and answers as the test says: a body in Google's layout, slowly, with HTTP 500, with a
non-JSON body, or not at all. Answers can be chosen per location or radius, so one
request can be slow while another is answered at once."""
import dataclasses
import http.server
import socket
import ssl
import threading
import time
import urllib.parse
from typing import Callable, Optional

NEARBY_PATH = "/maps/api/place/nearbysearch/json"


@dataclasses.dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=UTF-8"
    delay: float = 0.0                       # seconds to wait before answering
    hold: Optional[threading.Event] = None   # or: wait until the test sets this
    hang_up: bool = False                    # close the connection without answering


def body(data: bytes) -> Answer:
    return Answer(body=data)


def slow(data: bytes, delay: float) -> Answer:
    return Answer(body=data, delay=delay)


def held(data: bytes, event: threading.Event) -> Answer:
    return Answer(body=data, hold=event)


def http_error(status: int = 500) -> Answer:
    return Answer(status=status, body=b"<html><body>Internal Server Error</body></html>\n",
                  content_type="text/html; charset=UTF-8")


def garbage() -> Answer:
    return Answer(body=b"this is <not> JSON {\n", content_type="text/plain")


def status_body(status: str, error_message: Optional[str] = None) -> bytes:
    """A bodyless answer with the given status, laid out as Google lays it out."""
    lines = ["{"]
    if error_message is not None:
        lines.append(f'   "error_message" : "{error_message}",')
    lines += ['   "html_attributions" : [],', '   "results" : [],', f'   "status" : "{status}"', "}"]
    return ("\n".join(lines) + "\n").encode()


@dataclasses.dataclass(frozen=True)
class Request:
    connection: int                 # 1, 2, ... in the order connections were accepted
    method: str
    target: str                     # the request target as sent
    path: str
    query: dict                     # name -> list of decoded values
    headers: dict
    received: float                 # time.monotonic() at receipt
    body: bytes = b""               # what a POST carried

    def param(self, name: str) -> Optional[str]:
        values = self.query.get(name)
        return values[0] if values and len(values) == 1 else None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: "PlacesUpstream", tls: Optional[ssl.SSLContext]):
        self.upstream = upstream
        self.tls = tls
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request, client_address):
        # TLS is set up in the connection's own thread, so a slow or failed handshake
        # never holds up the accept loop.
        self.upstream._track(request)
        if self.tls is not None:
            try:
                request.settimeout(10)
                request = self.tls.wrap_socket(request, server_side=True)
                self.upstream._track(request)
            except (ssl.SSLError, OSError) as error:
                self.upstream._handshake_failed(error)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        pass  # a peer that hangs up mid-answer is routine here


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30

    def setup(self):
        super().setup()
        self.connection_id = self.server.upstream._new_connection()

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        self._answer(b"")

    def do_POST(self):
        """As Google's Places API (New) is asked; the body is recorded for the test."""
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(self.rfile.read(length))

    def _answer(self, body: bytes):
        upstream = self.server.upstream
        parts = urllib.parse.urlsplit(self.path)
        request = Request(connection=self.connection_id, method=self.command, target=self.path,
                          path=parts.path,
                          query=urllib.parse.parse_qs(parts.query, keep_blank_values=True),
                          headers={k.lower(): v for k, v in self.headers.items()},
                          received=time.monotonic(), body=body)
        answer = upstream._record_and_choose(request)
        if answer.hold is not None:
            deadline = time.monotonic() + 30
            while not answer.hold.wait(0.05):
                if upstream._stopping.is_set() or time.monotonic() > deadline:
                    break
        if answer.delay:
            upstream._stopping.wait(answer.delay)
        if answer.hang_up or upstream._stopping.is_set():
            self.close_connection = True
            return
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class PlacesUpstream:
    """Start with `PlacesUpstream(pki)` for HTTPS or `PlacesUpstream(None)` for HTTP."""

    def __init__(self, pki=None):
        tls = None
        if pki is not None:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(pki.cert_file, pki.key_file)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._requests: list[Request] = []
        self._connections = 0
        self._handshake_failures: list[str] = []
        self._sockets: list[socket.socket] = []
        self._default = Answer(status=500, body=b"no answer configured\n",
                               content_type="text/plain")
        self._routes: list[tuple[Callable[[Request], bool], Answer]] = []
        self._server = _Server(self, tls)
        self.port = self._server.server_address[1]
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{NEARBY_PATH}"

    # What to answer.
    def set_default(self, answer: Answer) -> None:
        with self._lock:
            self._default = answer

    def route(self, answer: Answer, *, location: Optional[str] = None,
              radius: Optional[str] = None) -> None:
        """Answer requests whose `location` / `radius` parameters equal these with `answer`."""
        def matches(request: Request) -> bool:
            return ((location is None or request.param("location") == location) and
                    (radius is None or request.param("radius") == radius))
        with self._lock:
            self._routes.append((matches, answer))

    def clear_routes(self) -> None:
        with self._lock:
            self._routes.clear()

    # What was asked.
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def reset_log(self) -> None:
        with self._lock:
            self._requests.clear()
            self._handshake_failures.clear()

    def handshake_failures(self) -> list[str]:
        with self._lock:
            return list(self._handshake_failures)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Request]:
        """Every request since the last reset_log, once there are at least `count`;
        raises TimeoutError, naming what came, if they are fewer after `timeout` seconds.
        A test that counts calls resets the log first: a herd's start-up probes are calls."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    came = [f"{r.method} {r.path}" for r in self._requests]
                    raise TimeoutError(f"places upstream: {len(came)} of {count} requests "
                                       f"within {timeout} s: {came}")
                self._changed.wait(left)
            return list(self._requests)

    def wait_for_handshake_failure(self, timeout: float = 5.0) -> list[str]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._handshake_failures:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            return list(self._handshake_failures)

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        self._thread.join(timeout=5)

    # Called from the server's threads.
    def _track(self, sock) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _new_connection(self) -> int:
        with self._lock:
            self._connections += 1
            return self._connections

    def _handshake_failed(self, error: Exception) -> None:
        with self._changed:
            self._handshake_failures.append(str(error))
            self._changed.notify_all()

    def _record_and_choose(self, request: Request) -> Answer:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()
            for matches, answer in self._routes:
                if matches(request):
                    return answer
            return self._default
