"""A model mirror for the download tests: ``http.server`` on 127.0.0.1 in a thread, serving
files from memory with HTTP ``Range`` support, and faults on demand (a connection cut after N
bytes, ``Range`` ignored, a server that never answers). Never the network."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Faults:
    cut_after: int | None = None
    """Send at most this many body bytes, then drop the connection (once)."""
    ignore_range: bool = False
    """Answer every request with 200 and the whole file."""
    hold_after: int | None = None
    """Send this many body bytes, then wait for ``release`` before sending the rest (once)."""
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class MirrorState:
    files: dict[str, bytes] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    """(path, Range header) of every request, in order."""


class _Handler(BaseHTTPRequestHandler):
    state: MirrorState  # set on the subclass made per server

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        st = self.state
        rng = self.headers.get("Range")
        st.requests.append((self.path, rng))
        data = st.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404, "Not Found")
            return
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and not st.faults.ignore_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        hold = st.faults.hold_after
        if hold is not None:
            st.faults.hold_after = None
            self.wfile.write(body[:hold])
            self.wfile.flush()
            st.faults.release.wait(30)
            body = body[hold:]
        cut = st.faults.cut_after
        if cut is not None:
            st.faults.cut_after = None  # once
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class ModelMirror:
    """``with ModelMirror() as m: m.add(path); m.url`` → a base URL for
    ``MATTING_STUDIO_MODEL_MIRROR``."""

    def __init__(self):
        self.state = MirrorState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, name: str, data: bytes) -> None:
        self.state.files[name] = data

    def __enter__(self) -> ModelMirror:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class SilentServer:
    """Accepts connections and never answers (a stalled mirror)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)

    @property
    def url(self) -> str:
        host, port = self.sock.getsockname()
        return f"http://{host}:{port}"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def closed_port_url() -> str:
    """An address on 127.0.0.1 where nothing listens (connections are refused at once)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def entry_for(path: Path, name: str, preset: str = "u2netp", file_name: str | None = None):
    """A catalogue entry pinning the file at ``path`` (for a test catalogue)."""
    from matting_studio.core.models import ModelInfo

    data = Path(path).read_bytes()
    return ModelInfo(name, file_name or Path(path).name, len(data), hashlib.md5(data).hexdigest(),
                     hashlib.sha256(data).hexdigest(), "verified", preset, "MIT (test)",
                     "tests")
