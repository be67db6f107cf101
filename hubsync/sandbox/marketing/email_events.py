"""Marketing email events (legacy v1): `{events, hasMore, offset}`, filtered by type, recipient and campaign."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses
from hubsync.sandbox.marketing.rows import row_offset, row_uuid
from hubsync.sandbox.portal import BOUNCE_CATEGORIES, EMAIL_EVENT_TYPES
from hubsync.sandbox.responses import Reply

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

EMAIL_EVENTS_MAX = 1000


def _millis(req: Request, name: str) -> int | None:
    raw = req.q(name)
    if not raw:
        return None
    if not raw.lstrip("-").isdigit():
        raise responses.validation(f"{name} must be milliseconds since the epoch, got {raw!r}")
    return int(raw)


def email_events(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 1000, EMAIL_EVENTS_MAX)
    start, end = _millis(req, "startTimestamp"), _millis(req, "endTimestamp")
    wanted_type = req.q("eventType")
    if wanted_type is not None and wanted_type not in EMAIL_EVENT_TYPES:
        raise responses.validation(f"Unknown eventType {wanted_type}")
    recipient, campaign = req.q("recipient"), req.q("campaignId")
    offset = row_offset(req, "offset")
    with portal.lock:
        log = portal.email_events
        rows = log.between(start, end)
        ts, ids, rec, typ, camp, url, cat = log.data
        type_code = None if wanted_type is None else EMAIL_EVENT_TYPES.index(wanted_type)
        rec_code = None if recipient is None else portal.strings.find(recipient)
        if recipient is not None and rec_code is None:
            rows = range(0)
        selected = [
            i
            for i in rows
            if (type_code is None or typ[i] == type_code)
            and (rec_code is None or rec[i] == rec_code)
            and (campaign is None or str(camp[i]) == campaign)
        ]
        page = selected[offset : offset + limit]
        sent = {c.id: c.sent for c in portal.campaigns}
        events = []
        for i in page:
            event: dict[str, Any] = {
                "id": row_uuid(portal, ids[i]),
                "created": ts[i],
                "type": EMAIL_EVENT_TYPES[typ[i]],
                "recipient": portal.strings[rec[i]],
                "portalId": portal.portal_id,
                "appId": 113,
                "appName": "BatchEmail",
                "emailCampaignId": camp[i],
                "sentBy": {"id": row_uuid(portal, camp[i]), "created": sent.get(camp[i], ts[i])},
                "filteredEvent": False,
            }
            kind = event["type"]
            if kind in ("OPEN", "CLICK"):
                event["userAgent"] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
                event["deviceType"] = "COMPUTER"
            if kind == "CLICK":
                event["url"] = portal.strings[url[i]]
            elif kind == "BOUNCE":
                event["category"] = BOUNCE_CATEGORIES[cat[i]] if cat[i] >= 0 else "UNKNOWN"
                event["status"] = "5.1.1" if event["category"] == "HARD_BOUNCE" else "4.2.2"
                event["response"] = (
                    "550 5.1.1 user unknown" if event["category"] == "HARD_BOUNCE" else ("452 4.2.2 mailbox full")
                )
            elif kind == "STATUSCHANGE":
                event["source"] = "SOURCE_RECIPIENT"
                event["portalSubscriptionStatus"] = "UNSUBSCRIBED"
                event["subscriptions"] = [{"id": 7_000_001, "status": "UNSUBSCRIBED"}]
            events.append(event)
    has_more = offset + limit < len(selected)
    return Reply(200, {"events": events, "hasMore": has_more, "offset": str(offset + len(page))})
