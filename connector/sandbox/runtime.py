"""What both CRM emulators share: a server thread, fault injection, call counters, webhook delivery.

The emulators are WSGI apps (Flask) served by werkzeug's threaded server in a background thread, so a
test, a benchmark or `nurture sandbox` can start them in-process on an ephemeral loopback port.
"""

from __future__ import annotations

import collections
import heapq
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)


class FaultSpecError(ValueError):
    """A --faults string that cannot be understood."""


@dataclass
class Faults:
    """Misbehaviour injected into an emulator's API answers, settable per run.

    Spec syntax (``--faults``): comma-separated ``key=value`` pairs, e.g.
    ``error_rate=0.05,latency_ms=100,storm_429=20,outage_s=30,expire_sessions=1``.

    Two faults model what a client cannot tell apart from the outside: ``hang_s`` holds a share
    (``hang_rate``, default 5 %) of calls for that many seconds and then drops them unanswered and
    unprocessed, as a stalled socket does; ``after_error_rate`` processes a share of calls fully and then
    answers 5xx, as a gateway that times out after the backend has written does. A client that retries
    the second kind blindly creates twice.
    """

    error_rate: float = 0.0  # share of API calls answered with a 503
    latency_ms: float = 0.0  # added to every API call
    storm_429: int = 0  # the next N API calls answer 429
    outage_s: float = 0.0  # every API call answers 503 for this many seconds from when it was set
    expire_sessions: int = 0  # Salesforce: invalidate every session issued so far (1 = do it now)
    hang_s: float = 0.0  # a hung call is held this long, then dropped without an answer
    hang_rate: float = 0.05  # share of calls that hang while hang_s is set
    after_error_rate: float = 0.0  # share of calls processed, then answered with a 5xx anyway
    seed: int | None = None
    _outage_until: float = field(default=0.0, repr=False)
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _released: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def parse(cls, spec: str | None) -> Faults:
        faults = cls()
        faults.update(_parse_spec(spec or ""))
        return faults

    def update(self, values: dict[str, Any]) -> None:
        known = {f.name: f.type for f in fields(self) if not f.name.startswith("_")}
        with self._lock:
            for key, raw in values.items():
                if key not in known:
                    raise FaultSpecError(f"unknown fault {key!r} — known faults: {', '.join(sorted(known))}")
                cast = float if key in _FLOAT_FAULTS else int
                try:
                    setattr(self, key, cast(raw) if raw is not None else None)
                except (TypeError, ValueError):
                    raise FaultSpecError(f"fault {key}={raw!r} is not a number") from None
            if "outage_s" in values:
                self._outage_until = time.monotonic() + self.outage_s if self.outage_s else 0.0
            if "seed" in values and self.seed is not None:
                self._rng.seed(self.seed)

    def clear(self) -> None:
        """No misbehaviour at all, as after a fresh start."""
        self.update({"error_rate": 0, "latency_ms": 0, "storm_429": 0, "outage_s": 0, "expire_sessions": 0,
                     "hang_s": 0, "hang_rate": 0.05, "after_error_rate": 0})
        self._released.set()
        self._released = threading.Event()

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    def before_call(self) -> str | None:
        """Sleep the injected latency, then say which fault (if any) answers this call. A hung call
        comes back as "hang" after hang_s (or at once when the faults are cleared): drop it unanswered."""
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000.0)
        with self._lock:
            hang = self.hang_s > 0 and self._rng.random() < self.hang_rate
            released = self._released
        if hang:
            released.wait(self.hang_s)
            return "hang"
        with self._lock:
            if self._outage_until and time.monotonic() < self._outage_until:
                return "outage"
            if self.storm_429 > 0:
                self.storm_429 -= 1
                return "rate_limited"
            if self.error_rate and self._rng.random() < self.error_rate:
                return "error"
        return None


    def after_call(self) -> bool:
        """True when this call, already processed, should be answered with a 5xx anyway."""
        with self._lock:
            return bool(self.after_error_rate) and self._rng.random() < self.after_error_rate


_FLOAT_FAULTS = frozenset({"error_rate", "latency_ms", "outage_s", "hang_s", "hang_rate", "after_error_rate"})


DROP_HEADER = "X-Sandbox-Drop-Connection"


class DroppedConnection(ConnectionError):
    """Raised from start_response so werkzeug drops the request without writing any answer."""


def dropped_response() -> Any:
    """What an emulator returns for a hung call: ServerThread turns it into silence (no status line, no body)."""
    from flask import Response

    return Response(status=504, headers={DROP_HEADER: "1"})


def _drop_marked_responses(app: Any) -> Any:
    """WSGI middleware: a response carrying DROP_HEADER is never sent. werkzeug treats a ConnectionError from
    the app as a dropped client and writes nothing, so the caller waits until its own read timeout."""
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(name == DROP_HEADER for name, _ in headers):
                raise DroppedConnection("sandbox fault: hung call dropped unanswered")
            return start_response(status, headers, exc_info)
        return app(environ, start)
    return wsgi


def _parse_spec(spec: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise FaultSpecError(f"fault {part!r} needs a value, as in {part}=1")
        values[key.strip()] = value.strip()
    return values


class CallCounter:
    """Counts API calls by endpoint name, for the API-efficiency benchmarks."""

    def __init__(self) -> None:
        self._counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def add(self, endpoint: str) -> None:
        with self._lock:
            self._counts[endpoint] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()


class FlushWindow:
    """Both CRMs gather changes for a moment and send them together: the first change of a window arms a
    timer that calls `flush` after `window_s`; flushing early disarms it. Callers hold their own lock."""

    def __init__(self, window_s: float, flush: Callable[[], Any]) -> None:
        self.window_s = window_s
        self._flush = flush
        self._timer: threading.Timer | None = None

    def arm(self) -> None:
        if self._timer is None:
            self._timer = threading.Timer(self.window_s, self._flush)
            self._timer.daemon = True
            self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, for a server started in another process."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_until_ready(url: str, timeout_s: float = 30.0) -> bool:
    """Poll url (e.g. a /readyz) until it answers 200, or give up after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return False


class ServerThread:
    """Serve a WSGI app on a loopback port in a daemon thread (port 0 picks a free one)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, ssl_context: Any = None) -> None:
        # One log line per emulated API call drowns everything else; the call counters say more.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server: BaseWSGIServer = make_server(host, port, _drop_marked_responses(app), threaded=True,
                                                   ssl_context=ssl_context)
        self.host = host
        self.port = self._server.server_port
        self.scheme = "https" if ssl_context else "http"
        # A short poll interval makes stop() (and so every test teardown) quick.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name=f"sandbox:{self.port}")

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# A delivery builds its request anew for each attempt (HubSpot re-signs and bumps attemptNumber).
BuildRequest = Callable[[int], tuple[dict[str, str], bytes]]
IsAcknowledged = Callable[[requests.Response], bool]


@dataclass(order=True)
class _Pending:
    due: float
    seq: int
    url: str = field(compare=False)
    build: BuildRequest = field(compare=False)
    acknowledged: IsAcknowledged = field(compare=False)
    attempt: int = field(default=0, compare=False)
    first_sent: float = field(default=0.0, compare=False)


@dataclass
class DeliveryLog:
    url: str
    attempt: int
    status: int | None
    acknowledged: bool
    error: str | None = None


class Deliverer:
    """Sends webhooks in the background and retries each until acknowledged, as the CRMs do.

    ``retry_base_s`` is the first gap; each later gap doubles up to ``retry_max_s``; a delivery is
    abandoned after ``max_attempts`` or ``give_up_after_s``. Real services use minutes to hours;
    tests and the sandbox shrink the scale.
    """

    def __init__(
        self,
        retry_base_s: float = 1.0,
        retry_max_s: float = 60.0,
        max_attempts: int = 10,
        give_up_after_s: float = 24 * 3600,
        timeout_s: float = 5.0,
        verify: bool | str = True,
    ) -> None:
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.max_attempts = max_attempts
        self.give_up_after_s = give_up_after_s
        self.timeout_s = timeout_s
        self.log: collections.deque[DeliveryLog] = collections.deque(maxlen=10_000)
        self._session = requests.Session()
        self._session.verify = verify
        self._queue: list[_Pending] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._in_flight = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="sandbox-deliverer")
        self._thread.start()

    def submit(self, url: str, build: BuildRequest, acknowledged: IsAcknowledged) -> None:
        with self._cond:
            self._seq += 1
            heapq.heappush(self._queue, _Pending(time.monotonic(), self._seq, url, build, acknowledged))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is queued or in flight (True) or the timeout passes (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            time.sleep(0.01)
        return self.pending() == 0

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._queue or self._queue[0].due > time.monotonic()):
                    wait = self._queue[0].due - time.monotonic() if self._queue else None
                    self._cond.wait(timeout=wait)
                if self._stopped:
                    return
                item = heapq.heappop(self._queue)
                self._in_flight += 1
            try:
                self._attempt(item)
            finally:
                with self._cond:
                    self._in_flight -= 1

    def _attempt(self, item: _Pending) -> None:
        if item.attempt == 0:
            item.first_sent = time.monotonic()
        headers, body = item.build(item.attempt)
        status: int | None = None
        ok = False
        error: str | None = None
        try:
            response = self._session.post(item.url, data=body, headers=headers, timeout=self.timeout_s)
            status = response.status_code
            ok = item.acknowledged(response)
        except requests.RequestException as exc:
            error = type(exc).__name__
        self.log.append(DeliveryLog(item.url, item.attempt, status, ok, error))
        if ok:
            return
        item.attempt += 1
        elapsed = time.monotonic() - item.first_sent
        if item.attempt >= self.max_attempts or elapsed >= self.give_up_after_s:
            log.warning("sandbox gave up delivering to %s after %d attempts", item.url, item.attempt)
            return
        gap = min(self.retry_max_s, self.retry_base_s * (2 ** (item.attempt - 1)))
        item.due = time.monotonic() + gap * (0.8 + 0.4 * random.random())
        with self._cond:
            heapq.heappush(self._queue, item)
            self._cond.notify()
