"""Many Server-Sent Events streams from one thread: raw sockets and a selector (a thread each would not scale).

Each stream sends an HTTP/1.0 request (the answer then ends with the connection: no chunked encoding to undo)
and parses the events it receives. An event's arrival time is the kernel's receive timestamp of the data
(``SO_TIMESTAMPNS``, wall clock) where the platform gives one: when the bytes reached this client, however long
this one thread then took to get to that socket. Used by the real-server tests and the stream benchmark.
"""
import selectors
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", None)


class Stream:
    def __init__(self, index, headers):
        self.index, self.headers = index, headers
        self.sock = None
        self.buffer = b""
        self.status = None
        self.head_done = False
        self.connected = False
        self.events = []  # (seq, event, data text, time received)
        self.comments = []
        self.closed_at = None

    def feed(self, data, now):
        self.buffer += data
        if not self.head_done:
            head, sep, rest = self.buffer.partition(b"\r\n\r\n")
            if not sep:
                return
            self.status = int(head.split(b" ", 2)[1])
            self.head_done, self.buffer = True, rest
        while b"\n\n" in self.buffer:
            block, self.buffer = self.buffer.split(b"\n\n", 1)
            fields = {}
            for line in block.decode("utf-8", "replace").split("\n"):
                name, _sep, value = line.partition(":")
                fields.setdefault(name or "comment", []).append(value[1:] if value.startswith(" ") else value)
            if "data" in fields:
                self.events.append((int(fields["id"][0]), fields["event"][0], fields["data"][0], now))
            for comment in fields.get("comment", []):
                self.comments.append(comment)
                if comment.startswith("connected"):
                    self.connected = True


class Swarm:
    """``count`` streams to ``url`` (http://host:port/path?query), each with its own headers."""

    def __init__(self, url, headers_for, count):
        parts = urlsplit(url)
        self.address = (parts.hostname, parts.port)
        self.target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.streams = [Stream(i, headers_for(i)) for i in range(count)]
        self.selector = selectors.DefaultSelector()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="sse-swarm")

    def open(self, timeout=60, wave=20):
        """Connect every stream, ``wave`` at a time: a server answers a burst of openings with as many requests at
        once as its database pool allows (db_maxconn), and a stream holds no connection once it is open."""
        self.thread.start()
        for start in range(0, len(self.streams), wave):
            batch = self.streams[start:start + wave]
            for stream in batch:
                sock = socket.create_connection(self.address, timeout=timeout)
                if SO_TIMESTAMPNS is not None:
                    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                lines = [f"GET {self.target} HTTP/1.0", f"Host: {self.address[0]}:{self.address[1]}",
                         "Accept: text/event-stream", *(f"{k}: {v}" for k, v in stream.headers.items()), "", ""]
                sock.sendall("\r\n".join(lines).encode())
                sock.setblocking(False)
                stream.sock = sock
                self.selector.register(sock, selectors.EVENT_READ, stream)
            self.wait(lambda batch=batch: all(s.status is not None or s.closed_at for s in batch), timeout)
        return self

    def _run(self):
        while not self.stop.is_set():
            for key, _mask in self.selector.select(timeout=0.2):
                stream = key.data
                try:
                    data, ancillary, _flags, _address = stream.sock.recvmsg(65536, 64)
                except BlockingIOError:
                    continue
                except OSError:
                    data, ancillary = b"", []
                now = time.time()
                for level, kind, value in ancillary:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                        seconds, nanoseconds = struct.unpack("qq", value[:16])
                        now = seconds + nanoseconds / 1e9
                if not data:
                    stream.closed_at = now
                    self.selector.unregister(stream.sock)
                    stream.sock.close()
                    continue
                stream.feed(data, now)

    def wait(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            time.sleep(0.1)
        return predicate()

    def all_connected(self, timeout=60):
        return self.wait(lambda: all(s.connected for s in self.streams), timeout)

    def close(self):
        self.stop.set()
        self.thread.join(5)
        for stream in self.streams:
            if stream.sock is not None and stream.closed_at is None:
                try:
                    self.selector.unregister(stream.sock)
                except (KeyError, ValueError):
                    pass
                stream.sock.close()
        self.selector.close()

    def __enter__(self):
        return self if self.thread.is_alive() else self.open()

    def __exit__(self, *_exc):
        self.close()
