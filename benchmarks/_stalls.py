"""Helpers of ``api_load.py --scenario stalls|edits``: raw uploads, a /health prober, edits.

Kept apart from ``api_load.py`` (the throughput runs) so each file stays readable.
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = [
    "Prober",
    "Upload",
    "csv_points",
    "edit_once_per_second",
    "json_points",
    "move_border_once_per_second",
    "percentiles",
    "upload",
]


def csv_points(n: int, box: tuple[float, float, float, float]) -> bytes:
    """Return a CSV batch of ``n`` points spread over ``box`` (repeatable)."""
    x0, y0, x1, y1 = box
    step_x, step_y = (x1 - x0) / 997, (y1 - y0) / 991
    return b"id,lon,lat\n" + b"".join(
        b"%d,%.6f,%.6f\n" % (i, x0 + (i % 997) * step_x, y0 + (i % 991) * step_y) for i in range(n)
    )


def json_points(n: int, box: tuple[float, float, float, float]) -> bytes:
    """Return a JSON batch of ``n`` points spread over ``box`` (repeatable)."""
    x0, y0, x1, y1 = box
    step_x, step_y = (x1 - x0) / 997, (y1 - y0) / 991
    rows = b",".join(
        b'{"id":"%d","lon":%.6f,"lat":%.6f}' % (i, x0 + (i % 997) * step_x, y0 + (i % 991) * step_y)
        for i in range(n)
    )
    return b'{"rows":[' + rows + b"]}"


@dataclass
class Upload:
    """One upload: its answer's status and how long the answer took to begin (s)."""

    status: int
    seconds_to_answer: float
    seconds_total: float
    sent_bytes: int
    size: int


def upload(base: str, key: str, path: str, content_type: str, body: bytes) -> Upload:
    """POST ``body`` from one thread while reading the answer in this one (as a client
    that streams a big file does), so an early answer is seen when it comes."""
    url = urlsplit(base)
    conn = socket.create_connection((url.hostname, url.port), timeout=600)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    sent = 0

    def send() -> None:
        nonlocal sent
        conn.sendall(head)
        view = memoryview(body)
        try:
            while sent < len(body):
                sent += conn.send(view[sent : sent + 65536])
        except OSError:
            pass  # answered and closed: the rest is never read

    started = time.perf_counter()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    answered = time.perf_counter() - started
    head_text, _, rest = data.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    got = len(rest)
    while got < length:
        chunk = conn.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    total = time.perf_counter() - started
    sender.join(60)
    conn.close()
    return Upload(int(lines[0].split()[1]) if lines[0] else 0, answered, total, sent, len(body))


def percentiles(values: list[float]) -> tuple[float, float, float]:
    """Return p50, p99 and max of ``values`` (seconds) in milliseconds."""
    if not values:
        return (float("nan"),) * 3  # type: ignore[return-value]
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1e3, p99 * 1e3, ordered[-1] * 1e3


@dataclass
class Prober:
    """Ask ``GET /health`` over and over on one kept-alive connection, in a thread."""

    base: str
    key: str
    pause_s: float = 0.005
    samples: list[tuple[float, float]] = field(default_factory=list)  # (ended at, seconds)
    failures: int = 0

    @contextmanager
    def running(self) -> Iterator[Prober]:
        """Probe while the block runs."""
        stop = threading.Event()
        thread = threading.Thread(target=self._probe, args=(stop,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join(60)

    def _probe(self, stop: threading.Event) -> None:
        url = urlsplit(self.base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        while not stop.is_set():
            started = time.perf_counter()
            try:
                conn.request("GET", "/health", headers={"Authorization": f"Bearer {self.key}"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                conn.close()
                ok = False
            ended = time.perf_counter()
            if ok:
                self.samples.append((ended, ended - started))
            else:
                self.failures += 1
            time.sleep(self.pause_s)

    def between(self, start: float, end: float) -> list[float]:
        """Return the latencies of the probes that overlapped ``[start, end]``."""
        return [s for ended, s in self.samples if ended >= start and ended - s <= end]


def edit_once_per_second(
    base: str, key: str, code: str, seconds: float
) -> tuple[list[float], list[int]]:
    """PATCH grid ``code`` once per second for ``seconds``, each edit on its own
    connection whether the last one answered or not (an edit answers once its server
    answers from the rebuilt index); return each edit's time and status. The name is
    restored at the end."""
    url = urlsplit(base)
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/geo+json",
        "If-Match": "*",
    }

    def request(method: str, body: dict[str, object] | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
        data = json.dumps(body) if body is not None else None
        conn.request(method, f"/collections/grids/items/{code}", data, headers)
        response = conn.getresponse()
        answer = response.read()
        conn.close()
        return response.status, answer

    feature = json.loads(request("GET")[1])
    name = feature["properties"]["name"]
    times: list[float] = []
    statuses: list[int] = []

    def edit(k: int) -> None:
        patch = {
            "type": "Feature",
            "geometry": feature["geometry"],  # validated against the neighbours again
            "properties": {"name": f"{name}（{k % 2}）" if k % 2 else name},
        }
        started = time.perf_counter()
        status, _ = request("PATCH", patch)
        times.append(time.perf_counter() - started)
        statuses.append(status)

    _once_per_second(edit, seconds)
    request("PATCH", {"type": "Feature", "properties": {"name": name}})
    return times, statuses


def move_border_once_per_second(
    base: str, key: str, grids: tuple[dict, dict], moved: tuple[dict, dict], seconds: float
) -> tuple[list[float], list[int]]:
    """Move the border between two sibling grids once per second for ``seconds``: each
    edit is one ``POST /collections/grids/edits`` that gives both grids their ``moved``
    geometry, then their first one again (GeoJSON features with ``id``), each request on
    its own connection whether the last one answered or not; return each edit's time
    and status. The first geometries are stored again at the end."""
    url = urlsplit(base)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/geo+json"}

    def post(shapes: tuple[dict, dict]) -> int:
        features = [
            {**grid, "geometry": shape, "if_match": "*"}
            for grid, shape in zip(grids, shapes, strict=True)
        ]
        body = json.dumps({"type": "FeatureCollection", "features": features})
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=120)
        conn.request("POST", "/collections/grids/edits", body, headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status

    first = (grids[0]["geometry"], grids[1]["geometry"])
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()  # the edits alternate: the k-th one sends state k % 2

    def edit(k: int) -> None:
        started = time.perf_counter()
        status = post(moved if k % 2 else first)
        with lock:
            times.append(time.perf_counter() - started)
            statuses.append(status)

    _once_per_second(edit, seconds)
    post(first)
    return times, statuses


def _once_per_second(edit: Callable[[int], None], seconds: float) -> None:
    """Call ``edit(k)`` for k = 1, 2, ... once per second for ``seconds``, each in its own
    thread whether the last one returned or not; wait for them all."""
    editors = []
    started = time.perf_counter()
    k = 0
    while time.perf_counter() - started < seconds:
        k += 1
        editors.append(threading.Thread(target=edit, args=(k,), daemon=True))
        editors[-1].start()
        time.sleep(max(0.0, started + k - time.perf_counter()))
    for editor in editors:
        editor.join(180)
