"""Local receivers for outbound notifications: a tiny SMTP server and an HTTP endpoint, each on a real socket
bound to 127.0.0.1 on an ephemeral port, started and stopped by the test."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Mailbox:
    messages: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False  # answer MAIL FROM with 451 (a mail server in trouble)


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for Django's backend: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        box: Mailbox = self.server.mailbox  # type: ignore[attr-defined]
        sender, recipients = "", []
        self._say("220 localhost test SMTP")
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            command = raw.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in {"EHLO", "HELO"}:
                self._say("250 localhost")
            elif verb == "MAIL":
                if box.refuse:
                    self._say("451 4.3.0 try again later")
                    continue
                sender, recipients = command[10:].strip("<> "), []
                self._say("250 OK")
            elif verb == "RCPT":
                recipients.append(command[8:].strip("<> "))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 end with <CRLF>.<CRLF>")
                lines = []
                while (line := self.rfile.readline()) not in {b".\r\n", b".\n", b""}:
                    lines.append(line.decode("utf-8", "replace"))
                box.messages.append({"from": sender, "to": recipients, "data": "".join(lines)})
                self._say("250 OK queued")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:  # RSET, NOOP
                self._say("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    box = Mailbox()
    server = _Server(("127.0.0.1", 0), _SmtpHandler)
    server.mailbox = box  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], box
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Gateway:
    requests: list[dict[str, Any]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes to answer with, in turn; then 200


class _GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        gateway: Gateway = self.server.gateway  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        gateway.requests.append({"path": self.path, "headers": self.headers, "body": body})
        status = gateway.answers.pop(0) if gateway.answers else 200
        answer = b"paged" if status == 200 else b"gateway busy"
        self.send_response(status)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def http_gateway() -> Iterator[tuple[str, Gateway]]:
    gateway = Gateway()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _GatewayHandler)
    server.gateway = gateway  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/page", gateway
    finally:
        server.shutdown()
        server.server_close()
