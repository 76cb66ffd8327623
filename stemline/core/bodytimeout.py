"""A deadline for request bodies under `stemline serve`: a client that trickles its body holds a
server thread only until the deadline, then gets 408 and is disconnected."""

import socket
import threading
import time

TIMEOUT_BODY = b"The request body did not arrive in time.\n"


class _Watchdog:
    """One thread per process that cuts the connections whose body is overdue: shutting the
    socket's read side ends the blocked read in the request's thread at once."""

    def __init__(self):
        self.lock = threading.Lock()
        self.armed: dict[int, tuple[float, socket.socket, dict]] = {}
        self.thread: threading.Thread | None = None

    def arm(self, sock: socket.socket, deadline: float) -> dict:
        state = {"cut": False}
        with self.lock:
            self.armed[id(state)] = (deadline, sock, state)
            if self.thread is None or not self.thread.is_alive():
                # Started lazily: gunicorn forks its workers after loading the application.
                self.thread = threading.Thread(target=self.run, name="body-deadline", daemon=True)
                self.thread.start()
        return state

    def disarm(self, state: dict) -> None:
        with self.lock:
            self.armed.pop(id(state), None)

    def run(self) -> None:
        while True:
            time.sleep(0.25)
            now = time.monotonic()
            with self.lock:
                overdue = [key for key, (deadline, _, _) in self.armed.items() if deadline <= now]
                entries = [self.armed.pop(key) for key in overdue]
            for _, sock, state in entries:
                state["cut"] = True
                try:
                    sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass  # already closed by the client


class _Input:
    """wsgi.input that notices when the whole body has been read (the deadline then no longer
    applies)."""

    def __init__(self, stream, length: int | None, done):
        self.stream, self.left, self.done = stream, length, done

    def _count(self, data: bytes) -> bytes:
        if self.left is not None:
            self.left -= len(data)
            if self.left <= 0:
                self.done()
        if not data:
            self.done()
        return data

    def read(self, size=-1):
        return self._count(self.stream.read(size) if size is not None else self.stream.read())

    def readline(self, size=-1):
        return self._count(self.stream.readline(size))

    def readlines(self, hint=-1):
        return [self._count(line) for line in self.stream.readlines(hint)]

    def __iter__(self):
        for line in self.stream:
            yield self._count(line)


class BodyDeadline:
    """WSGI middleware: the body of a request must have arrived `seconds` after its headers."""

    def __init__(self, app, seconds: float):
        self.app = app
        self.seconds = seconds
        self.watchdog = _Watchdog()

    def __call__(self, environ, start_response):
        sock = environ.get("gunicorn.socket")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if sock is None or self.seconds <= 0 or (length <= 0 and not chunked):
            return self.app(environ, start_response)
        state = self.watchdog.arm(sock, time.monotonic() + self.seconds)
        environ["wsgi.input"] = _Input(
            environ["wsgi.input"], None if chunked else length, lambda: self.watchdog.disarm(state)
        )
        # Not disarmed when the application answers without reading the whole body (a refused
        # form): gunicorn then reads the rest to reach the next request on the connection, and
        # the deadline bounds that too.
        result = self.app(environ, start_response)
        if not state["cut"]:
            return result
        # The body was cut off: whatever the application made of the part it got is discarded.
        close = getattr(result, "close", None)
        if close is not None:
            close()
        start_response(
            "408 Request Timeout",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(TIMEOUT_BODY)))],
            # exc_info lets the application's own (unsent) status be replaced.
            (TimeoutError, TimeoutError("request body"), None),
        )
        return [TIMEOUT_BODY]
