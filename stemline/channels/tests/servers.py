"""Misbehaving marketplaces for the delivery tests: real TCP servers on 127.0.0.1 that answer
late, drip their answer, flood it, answer with another protocol's banner or an error page."""

import socket
import socketserver
import threading
import time


class BadEndpoint:
    """One server, one behaviour (`mode`); `stop()` ends every connection at once.

    sleep:   reads the request, answers 200 after `seconds` (60: a stuck marketplace)
    drip:    reads the request, sends an answer one byte every `seconds`, never finishing
    flood:   answers 200 with a body of a gigabyte, sent steadily (64 KB every 10 ms)
    headers: answers 200 with ever more header lines, never ending them
    banner:  answers with another service's banner (not HTTP at all)
    error:   answers 503 with a page naming the foreign service
    """

    BANNER = b"SSH-2.0-OpenSSH_9.2p1 secret-internal-host\r\n"
    ERROR_PAGE = b"<h1>503</h1> nginx/1.25 on db-primary.internal: upstream unavailable"

    def __init__(self, mode: str, seconds: float = 60.0):
        self.mode, self.seconds = mode, seconds
        self.stopped = threading.Event()
        self.requests = 0
        self.sent = 0  # bytes written by the server
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(1)
                try:
                    outer._serve(self.request)
                except OSError:
                    pass  # the client hung up: what a deadline does

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def _read_request(self, sock: socket.socket) -> bool:
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if self.stopped.is_set():
                    return False
                continue
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                return False
            body += chunk
        self.requests += 1
        return True

    def _send(self, sock: socket.socket, data: bytes) -> None:
        sock.sendall(data)
        self.sent += len(data)

    def _serve(self, sock: socket.socket) -> None:
        if self.mode == "banner":
            self._send(sock, self.BANNER)
            self._read_request(sock)
            return
        while self._read_request(sock):
            if self.mode == "sleep":
                if self.stopped.wait(self.seconds):
                    return
                self._send(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            elif self.mode == "error":
                page = self.ERROR_PAGE
                self._send(
                    sock,
                    b"HTTP/1.1 503 Service Unavailable\r\nServer: nginx/1.25\r\n"
                    + b"Content-Length: %d\r\n\r\n" % len(page)
                    + page,
                )
            elif self.mode == "drip":
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" + b"X-Drip: 1\r\n" * 10_000
                for byte in answer:
                    if self.stopped.wait(self.seconds):
                        return
                    self._send(sock, bytes([byte]))
                return
            elif self.mode == "flood":
                self._send(sock, b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000\r\n\r\n")
                chunk = b"x" * 65536
                while not self.stopped.is_set():
                    self._send(sock, chunk)
                    time.sleep(0.01)
                return
            elif self.mode == "headers":
                self._send(sock, b"HTTP/1.1 200 OK\r\n")
                while not self.stopped.is_set():
                    self._send(sock, b"X-Padding: " + b"y" * 1000 + b"\r\n")
                    time.sleep(0.001)
                return

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


def closed_port_url() -> str:
    """An address on which nothing listens (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
