"""Requests, routes and the router: path templates written the way HubSpot's reference writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from hubsync.sandbox import responses

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubsync.sandbox.portal import Portal

    Handler = Callable[[Portal, "Request"], responses.Reply]
    Scopes = Callable[[dict[str, str]], tuple[str, ...]]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def q_list(self, name: str) -> list[str]:
        """A list parameter, sent repeated (`?p=a&p=b`, the SDK's way) or comma-separated (`?p=a,b`)."""
        return [part for value in self.query.get(name, []) for part in value.split(",") if part]

    def q_int(self, name: str, default: int, maximum: int | None = None) -> int:
        raw = self.q(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise responses.validation(f"Unable to parse {name}={raw!r} as an integer") from None
        if value < 1 and name == "limit":
            raise responses.validation(f"{name} must be positive, got {value}")
        if maximum is not None and value > maximum:
            raise responses.validation(f"{name} must be at most {maximum}, got {value}", sub_category="LIMIT_EXCEEDED")
        return value

    def q_bool(self, name: str) -> bool:
        return (self.q(name) or "").lower() == "true"

    def json_object(self) -> dict[str, Any]:
        if not isinstance(self.body, dict):
            raise responses.validation("Invalid input JSON: expected an object")
        return self.body


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    scopes: Scopes | None  # any one of the returned scopes admits the request; None: no token needed
    kind: str = "api"  # api, search (own limits, no headers), admin
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template.rstrip("/"))
        object.__setattr__(self, "regex", re.compile(f"^{pattern}/?$"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def find(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method != method:
                continue
            m = route.regex.match(path)
            if m is not None:
                return route, {k: unquote(v) for k, v in m.groupdict().items()}
        return None
