"""A Server-Sent Events client for the tests and the benchmarks, written from the WHATWG HTML
standard's event-stream format ("Interpreting an event stream"), over http.client: not Pixie's
code. A thread reads the stream; every event is kept with the time it arrived."""

import http.client
import json
import re
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass

from testsupport.servers import wait_for

LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class Event:
    type: str
    data: str
    last_id: str  # the stream's last event id when it was dispatched (its own, if it had an id field)
    received: float  # time.time()

    def json(self):
        return json.loads(self.data)


class Listener:
    """GET `url` as text/event-stream. `receive_buffer`: a small socket receive buffer, so the
    server can send only so much before this client reads; `reading=False`: it reads nothing
    (after the response's headers) until `start()`; `tls`: an https:// `url`'s context."""

    def __init__(
        self,
        url: str,
        last_event_id: str | None = None,
        receive_buffer: int = 0,
        reading: bool = True,
        tls: ssl.SSLContext | None = None,
    ):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.socket()
        if receive_buffer:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(60)
        self.sock.connect((parts.hostname, parts.port))
        if tls:
            self.sock = tls.wrap_socket(self.sock, server_hostname=parts.hostname)
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        conn.sock = self.sock
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers)
        self.response = conn.getresponse()
        self.events: list[Event] = []
        self.comments: list[str] = []
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        if reading:
            self.start()

    def start(self) -> None:
        self.thread.start()

    def _read(self) -> None:
        kind, data, last_id = "", [], ""
        first = True
        try:
            while raw := self.response.readline():
                text = raw.decode("utf-8", errors="replace")
                if first:
                    text, first = text.removeprefix("\ufeff"), False
                for line in LINE_END.split(text)[:-1]:  # a last line without its end is dropped with the stream
                    if not line:  # dispatch
                        if data:
                            self.events.append(Event(kind or "message", "\n".join(data), last_id, time.time()))
                        kind, data = "", []
                    elif line.startswith(":"):
                        self.comments.append(line[1:].strip())
                    else:
                        field, _, value = line.partition(":")
                        value = value.removeprefix(" ")
                        if field == "event":
                            kind = value
                        elif field == "data":
                            data.append(value)
                        elif field == "id" and "\0" not in value:
                            last_id = value
        except (OSError, http.client.HTTPException):
            pass  # closed under it: the stream has ended for this client
        finally:
            self.ended.set()  # a pending, undispatched event is dropped, as the standard says

    def of(self, kind: str, since: int = 0) -> list[Event]:
        """The events of a kind, from the `since`th event on."""
        return [e for e in self.events[since:] if e.type == kind]

    def states(self, job_id: str, since: int = 0) -> list[str]:
        """The states of `job_id`'s `job` events, in the order they came."""
        return [e.json()["state"] for e in self.of("job", since) if e.json()["id"] == job_id]

    def wait(self, predicate, what: str, timeout: float = 30.0):
        return wait_for(predicate, what=what, timeout=timeout, interval=0.01)

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.ended.wait(10)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
