"""Web events (events API v3): page views as `e_visited_page`, answered only on the tiers that include the API."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hubsync.sandbox import responses
from hubsync.sandbox.crm.answers import paging
from hubsync.sandbox.crm.parsing import parse_id, to_ms
from hubsync.sandbox.limits import EVENTS_API_TIERS
from hubsync.sandbox.marketing.rows import row_offset, row_uuid
from hubsync.sandbox.responses import ApiError, Reply, iso

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

EVENTS_MAX = 1000  # (check) not documented either


def _per_contact(portal: Portal) -> dict[int, list[int]]:
    """Row indices of page views per (resolved) contact, rebuilt when views are added or contacts merged."""
    key = (len(portal.page_views), len(portal.merged_into))
    cached = portal.cache.get("page_views_by_contact")
    if isinstance(cached, tuple) and cached[0] == key:
        return cached[1]  # type: ignore[no-any-return]  # the cache holds what this function stored
    index: dict[int, list[int]] = {}
    for i, contact in enumerate(portal.page_views.col("contact")):
        index.setdefault(portal.resolve_contact(contact), []).append(i)
    portal.cache["page_views_by_contact"] = (key, index)
    return index


def web_events(portal: Portal, req: Request) -> Reply:
    if portal.tier not in EVENTS_API_TIERS:
        raise ApiError(
            responses.error(
                403,
                "FORBIDDEN",
                "The events API requires a Marketing Hub Enterprise or Content Hub Enterprise account.",
            )
        )
    limit = req.q_int("limit", 100, EVENTS_MAX)
    offset = row_offset(req, "after")
    object_type = (req.q("objectType") or "contact").lower()
    event_type = req.q("eventType")
    after_ms = _instant(req, "occurredAfter")
    before_ms = _instant(req, "occurredBefore")
    object_id = req.q("objectId")
    descending = (req.q("sort") or "").startswith("-")
    with portal.lock:
        log = portal.page_views
        if object_type not in ("contact", "contacts", "0-1") or event_type not in (None, "e_visited_page"):
            rows: list[int] | range = []
        elif object_id is not None:
            parsed = parse_id(object_id)
            rows = _per_contact(portal).get(portal.resolve_contact(parsed), []) if parsed is not None else []
            rows = [
                i
                for i in rows
                if (after_ms is None or log.data[0][i] > after_ms) and (before_ms is None or log.data[0][i] < before_ms)
            ]
        else:
            rows = log.between(None if after_ms is None else after_ms + 1, None if before_ms is None else before_ms - 1)
        ordered = rows[::-1] if descending else rows
        page = ordered[offset : offset + limit]
        ts, ids, contacts, urls = log.data
        results = []
        for i in page:
            url = portal.strings[urls[i]]
            path = urlsplit(url).path or "/"
            results.append(
                {
                    "objectType": "CONTACT",
                    "objectId": str(portal.resolve_contact(contacts[i])),
                    "eventType": "e_visited_page",
                    "occurredAt": iso(ts[i]),
                    "id": row_uuid(portal, ids[i]),
                    "properties": {"hs_url": url, "hs_page_path": path, "hs_title": _title(path, portal.vendor)},
                }
            )
        following = str(offset + limit) if offset + limit < len(ordered) else None
        return Reply(200, {"results": results, **paging(following, req.path)})


def web_event_types(_portal: Portal, _req: Request) -> Reply:
    return Reply(200, {"eventTypes": ["e_visited_page"]})


def _instant(req: Request, name: str) -> int | None:
    raw = req.q(name)
    if raw is None:
        return None
    ms = to_ms(raw.replace(" ", "+"))
    if ms is None:
        raise responses.validation(f"Invalid {name} {raw!r}")
    return ms


def _title(path: str, vendor: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return f"{last.replace('-', ' ').capitalize()} | {vendor}" if last else vendor
