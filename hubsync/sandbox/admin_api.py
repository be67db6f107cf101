"""The sandbox's own endpoints under `/__sandbox__/`: mutate the portal, read counters, change settings.

They need no token (the server listens on 127.0.0.1 only) and are never part of HubSpot's API.
"""

from __future__ import annotations

import random
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol

from hubsync.sandbox import responses, schema
from hubsync.sandbox.limits import FAULT_KINDS, FaultSettings, Gate
from hubsync.sandbox.portal import Portal
from hubsync.sandbox.records import PortalError
from hubsync.sandbox.responses import Reply
from hubsync.sandbox.routing import Request, Route
from hubsync.sandbox.sales import sales_day

if TYPE_CHECKING:
    from collections.abc import Callable


class Context(Protocol):
    """What the admin endpoints need from the running server."""

    gate: Gate

    def stats(self) -> dict[str, Any]: ...

    def reset_stats(self) -> None: ...

    def snapshot_bytes(self) -> bytes: ...


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if value is None or not str(value).lstrip("-").isdigit():
        raise responses.validation(f"{name} must be an integer")
    return int(value)


def _props(body: dict[str, Any]) -> dict[str, str | None]:
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise responses.validation("properties must be an object")
    return {str(k): None if v is None else str(v) for k, v in props.items()}


def _type(name: object) -> str:
    resolved = schema.TYPE_ALIASES.get(str(name))
    if resolved is None:
        raise responses.validation(f"unknown object type {name!r}")
    return resolved


def routes(ctx: Context) -> list[Route]:  # noqa: C901, PLR0915  # one closure per endpoint reads best in one place
    def stats(_portal: Portal, _req: Request) -> Reply:
        return Reply(200, ctx.stats())

    def reset_stats(_portal: Portal, _req: Request) -> Reply:
        ctx.reset_stats()
        return Reply(204)

    def snapshot(_portal: Portal, _req: Request) -> Reply:
        return Reply(200, ctx.snapshot_bytes())

    def clock(portal: Portal, req: Request) -> Reply:
        # GET reads the portal clock (hubsync's HUBSYNC_CLOCK=sandbox); POST advances it.
        body = req.json_object() if req.method == "POST" else {}
        now = portal.advance(float(body.get("advanceSeconds") or 0))
        return Reply(200, {"now": now, "iso": responses.iso(now)})

    def create(portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        links = [(_type(a.get("objectType")), _int(a, "id")) for a in body.get("associations") or []]
        obj = portal.create(
            _type(req.params["objectType"]),
            {k: v for k, v in _props(body).items() if v},
            associations=links,
            object_id=None if body.get("id") is None else _int(body, "id"),
        )
        return Reply(201, {"id": str(obj.id)})

    def edit(portal: Portal, req: Request) -> Reply:
        obj = portal.update(_type(req.params["objectType"]), int(req.params["objectId"]), _props(req.json_object()))
        return Reply(200, {"id": str(obj.id), "updatedAt": responses.iso(obj.updated)})

    def archive(portal: Portal, req: Request) -> Reply:
        portal.archive(_type(req.params["objectType"]), int(req.params["objectId"]))
        return Reply(204)

    def merge(portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        survivor = portal.merge(_int(body, "survivorId"), _int(body, "mergedId"))
        return Reply(200, {"id": str(survivor.id), "hs_merged_object_ids": survivor.props["hs_merged_object_ids"]})

    def associate(portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        args = (_type(body.get("fromType")), _int(body, "fromId"), _type(body.get("toType")), _int(body, "toId"))
        if body.get("remove"):
            portal.dissociate(*args)
        else:
            portal.associate(*args, primary=bool(body.get("primary")))
        return Reply(204)

    def bulk_update(portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        object_type = _type(body.get("objectType"))
        ids = body.get("ids")
        if ids is None:
            ids = portal.stores[object_type].live[: _int(body, "count")]
        at = body.get("at")
        count = portal.bulk_update(object_type, [int(i) for i in ids], _props(body), at=None if at is None else int(at))
        return Reply(200, {"updated": count})

    def activity(portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        kind, at = body.get("kind"), body.get("at")
        when = None if at is None else int(at)
        if kind == "page_view":
            row = portal.add_page_view(_int(body, "contactId"), str(body.get("url")), at=when)
        elif kind == "email_event":
            row = portal.add_email_event(
                str(body.get("recipient")),
                str(body.get("type")),
                campaign_id=body.get("campaignId"),
                url=body.get("url"),
                category=body.get("category"),
                at=when,
            )
        elif kind == "form_submission":
            row = portal.add_form_submission(
                _int(body, "contactId"), str(body.get("form")), page_url=str(body.get("pageUrl") or ""), at=when
            )
        elif kind == "marketing_event":
            row = portal.add_participation(
                _int(body, "contactId"), str(body.get("event")), str(body.get("state")), at=when
            )
        else:
            raise responses.validation("kind must be page_view, email_event, form_submission or marketing_event")
        return Reply(201, {"id": str(row)})

    def sales(portal: Portal, req: Request) -> Reply:
        # One simulated sales day at the portal's clock; the same seed at the same clock gives the same day.
        body = req.body if isinstance(req.body, dict) else {}
        seed = _int(body, "seed") if "seed" in body else portal.seed or 0
        day = sales_day(portal, random.Random(f"{seed}:{portal.now}"))  # noqa: S311  (simulation)
        return Reply(200, asdict(day))

    def tokens(_portal: Portal, req: Request) -> Reply:
        scopes = req.json_object().get("scopes", list(schema.ALL_SCOPES))
        return Reply(201, {"token": ctx.gate.add_token(tuple(str(s) for s in scopes))})

    def settings(portal: Portal, req: Request) -> Reply:
        body = req.json_object()
        if "indexDelaySeconds" in body:
            portal.index_delay_ms = round(float(body["indexDelaySeconds"]) * 1000)
        limits = ctx.gate.limits
        if "rateLimits" in body:
            limits.enabled = bool(body["rateLimits"])
        if "perTenSeconds" in body:
            limits.per_ten_seconds = body["perTenSeconds"]
        if "perDay" in body:
            limits.per_day = body["perDay"]
        if "faultRate" in body:
            kinds = tuple(str(k) for k in body.get("faultKinds") or FAULT_KINDS)
            retry_after = body.get("retryAfter")
            ctx.gate.set_faults(
                FaultSettings(
                    float(body["faultRate"]),
                    int(body.get("faultSeed") or 0),
                    kinds,
                    float(body.get("slowSeconds") or 1.5),
                    int(body.get("burst") or 5),
                    endpoints=tuple(str(e) for e in body.get("faultEndpoints") or ()),
                    retry_after=None if retry_after is None else str(retry_after),
                )
            )
        if "loseAnswers" in body:
            lose = body["loseAnswers"]
            ctx.gate.lose_answers(str(lose["endpoint"]), int(lose.get("count", 1)))
        return Reply(200, {"indexDelaySeconds": portal.index_delay_ms / 1000, "rateLimits": limits.enabled})

    def guarded(handler: Callable[[Portal, Request], Reply]) -> Callable[[Portal, Request], Reply]:
        def run(portal: Portal, req: Request) -> Reply:
            try:
                return handler(portal, req)
            except (PortalError, KeyError, ValueError) as exc:
                raise responses.validation(f"sandbox: {exc}") from exc

        return run

    base = "/__sandbox__"
    table: list[tuple[str, str, Callable[[Portal, Request], Reply]]] = [
        ("GET", "/stats", stats),
        ("POST", "/stats/reset", reset_stats),
        ("GET", "/snapshot", snapshot),
        ("GET", "/clock", clock),
        ("POST", "/clock", clock),
        ("POST", "/objects/{objectType}", create),
        ("PATCH", "/objects/{objectType}/{objectId}", edit),
        ("DELETE", "/objects/{objectType}/{objectId}", archive),
        ("POST", "/merge", merge),
        ("POST", "/associations", associate),
        ("POST", "/bulk-update", bulk_update),
        ("POST", "/activity", activity),
        ("POST", "/sales-day", sales),
        ("POST", "/tokens", tokens),
        ("POST", "/settings", settings),
    ]
    return [Route(method, base + path, guarded(handler), None, kind="admin") for method, path, handler in table]
