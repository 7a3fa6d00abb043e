"""A requests.Session whose every call has a connect and a read timeout.

simple-salesforce sends each request through the session it is given and passes no ``timeout``, so
requests would wait forever on a socket that accepted the connection and never answered. Setting the
timeout here, under the SDK, covers every call it makes (and the token request) without touching it.
A stalled call then raises requests' ConnectTimeout / ReadTimeout, which the adapter retries.
"""

from __future__ import annotations

from typing import Any

import requests


class TimedSession(requests.Session):
    def __init__(self, connect_s: float, read_s: float) -> None:
        super().__init__()
        self.timeout = (connect_s, read_s)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)
