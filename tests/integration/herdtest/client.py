"""A tiny herd client: connect, send bytes, read replies. Every wait is bounded."""
import select
import socket
import time
from typing import Optional

DEFAULT_TIMEOUT = 10.0


class ReplyTimeout(AssertionError):
    pass


class Connection:
    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT,
                 sock: Optional[socket.socket] = None):
        """Connects to host:port; or, given `sock` (a socket of the caller's, say one made
        in another network namespace), connects that socket there."""
        if sock is None:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        else:
            self.sock = sock
            try:
                sock.settimeout(timeout)
                sock.connect((host, port))
            except BaseException:
                sock.close()
                raise
        self.timeout = timeout
        self.buffer = b""
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def local_port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def shutdown_write(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def _fill(self, deadline: float) -> bool:
        """Reads more into the buffer; False at EOF. Raises ReplyTimeout past deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise ReplyTimeout(f"no complete reply in time; received so far: {self.buffer!r}")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise ReplyTimeout(f"no complete reply in time; received so far: {self.buffer!r}")
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def _take_until(self, marker: bytes, start: int, deadline: float) -> bytes:
        while True:
            index = self.buffer.find(marker, start)
            if index >= 0:
                end = index + len(marker)
                taken, self.buffer = self.buffer[:end], self.buffer[end:]
                return taken
            if self.eof or not self._fill(deadline):
                raise ReplyTimeout(f"connection closed before a complete reply; got {self.buffer!r}")

    def read_line(self, timeout: Optional[float] = None) -> bytes:
        """One reply line, `\\n` included."""
        deadline = time.monotonic() + (timeout or self.timeout)
        return self._take_until(b"\n", 0, deadline)

    def read_whatsat(self, timeout: Optional[float] = None) -> bytes:
        """A WHATSAT reply: the AT line, the JSON and the blank line; or a `? ` line."""
        deadline = time.monotonic() + (timeout or self.timeout)
        first = self._take_until(b"\n", 0, deadline)
        if first.startswith(b"? "):
            return first
        # The newline rule guarantees the JSON holds no blank line, so the first "\n\n"
        # after the AT line ends the reply. A JSON that is just "\n" short of it is matched
        # by looking from the AT line's own newline.
        self.buffer = first[-1:] + self.buffer
        rest = self._take_until(b"\n\n", 0, deadline)
        return first[:-1] + rest

    def read_to_eof(self, timeout: Optional[float] = None) -> bytes:
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            self._fill(deadline)
        data, self.buffer = self.buffer, b""
        return data

    def has_data(self) -> bool:
        """True when bytes are waiting (or the peer closed), without blocking."""
        if self.buffer:
            return True
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable)


def exchange(port: int, data: bytes, timeout: float = DEFAULT_TIMEOUT) -> bytes:
    """Sends `data`, shuts the sending side, and returns everything until the server closes."""
    with Connection(port, timeout=timeout) as conn:
        conn.send(data)
        conn.shutdown_write()
        return conn.read_to_eof()


def iamat(port: int, client_id: str, location: str, client_time: str) -> bytes:
    """Sends one IAMAT on its own connection; returns the reply line without its newline."""
    with Connection(port) as conn:
        conn.send(iamat_line(client_id, location, client_time))
        return conn.read_line()[:-1]


def iamat_line(client: str, location: str, client_time: str) -> bytes:
    return f"IAMAT {client} {location} {client_time}\n".encode()


def at_line(server: str, client: str, location: str, client_time: str) -> bytes:
    """An AT line as server `server` floods it to its neighbours, without its newline."""
    return f"AT {server} +0.263873386 {client} {location} {client_time}".encode()


def client_time(ns: int) -> str:
    """POSIX time `ns` (in nanoseconds) as a client writes it, nanosecond digits."""
    return f"{ns // 10**9}.{ns % 10**9:09d}"


def now_time() -> str:
    """The current POSIX time as a client writes it."""
    return client_time(time.time_ns())
