"""Fakes shared by the hubspot unit tests: a clock, an HTTP response as the SDK's REST layer sees it, and a
generated-API stand-in with the SDK's method pair and return shapes."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from urllib3 import HTTPHeaderDict

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"


class FakeClock:
    """Monotonic time that only moves when someone sleeps (or the test says so)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class FakeHTTPResponse:
    """What the SDK's `ApiException(http_resp=...)` reads: status, reason, data, getheaders()."""

    def __init__(
        self, status: int, body: Mapping[str, Any] | str | bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        self.status = status
        self.reason = {401: "Unauthorized", 403: "Forbidden", 429: "Too Many Requests"}.get(status, "Error")
        if isinstance(body, Mapping):
            body = json.dumps(body)
        self.data = body.encode() if isinstance(body, str) else body
        self._headers = HTTPHeaderDict(dict(headers or {}))

    def getheaders(self) -> HTTPHeaderDict:
        return self._headers


class FakeGeneratedApi:
    """Shaped like a generated SDK API class: `get_page` forces `_return_http_data_only=True` and delegates to
    `get_page_with_http_info`, which returns `(data, status, headers)` or raises what the script says."""

    def __init__(self, script: list[tuple[Any, int, Mapping[str, str]] | BaseException]) -> None:
        self.script = script
        self.calls: list[dict[str, Any]] = []

    def get_page(self, **kwargs: Any) -> Any:
        kwargs["_return_http_data_only"] = True
        return self.get_page_with_http_info(**kwargs)

    def get_page_with_http_info(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        data, status, headers = step
        if kwargs.get("_return_http_data_only"):
            return data
        return data, status, HTTPHeaderDict(dict(headers))
