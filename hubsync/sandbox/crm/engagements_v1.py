"""The legacy engagements API (v1): every task, email, call, meeting and note in one list, with its associations
and type-specific metadata; all of them paged by id, or the recently modified ones newest first."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import schema
from hubsync.sandbox.crm.parsing import to_ms
from hubsync.sandbox.responses import Reply

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import CrmObject
    from hubsync.sandbox.routing import Request

PAGED_MAX = 250
RECENT_MAX = 100
RECENT_TOTAL_MAX = 10_000  # HubSpot's recent API holds the last 10,000 changes of the last 30 days

# Engagement type -> (v1 type, v1 metadata name -> property).
_METADATA: dict[str, tuple[str, dict[str, str]]] = {
    schema.TASKS: (
        "TASK",
        {
            "subject": "hs_task_subject",
            "body": "hs_task_body",
            "status": "hs_task_status",
            "priority": "hs_task_priority",
            "taskType": "hs_task_type",
        },
    ),
    schema.EMAILS: ("EMAIL", {"subject": "hs_email_subject", "text": "hs_email_text", "status": "hs_email_status"}),
    schema.CALLS: (
        "CALL",
        {
            "title": "hs_call_title",
            "body": "hs_call_body",
            "status": "hs_call_status",
            "direction": "hs_call_direction",
        },
    ),
    schema.MEETINGS: (
        "MEETING",
        {"title": "hs_meeting_title", "body": "hs_meeting_body", "meetingOutcome": "hs_meeting_outcome"},
    ),
    schema.NOTES: ("NOTE", {"body": "hs_note_body"}),
}
_ASSOCIATED = {"contactIds": schema.CONTACTS, "companyIds": schema.COMPANIES, "dealIds": schema.DEALS}


def _engagements(portal: Portal) -> list[tuple[str, CrmObject]]:
    found = [(t, o) for t in schema.ENGAGEMENT_TYPES for o in portal.stores[t].by_id.values() if o.archived_at is None]
    return sorted(found, key=lambda pair: pair[1].id)


def _json(portal: Portal, t: str, obj: CrmObject) -> dict[str, Any]:
    kind, fields = _METADATA[t]
    owner = obj.props.get("hubspot_owner_id")
    timestamp = to_ms(obj.props.get("hs_timestamp", "")) or obj.created
    associations: dict[str, list[int]] = {name: portal.assoc.of(t, obj.id, to) for name, to in _ASSOCIATED.items()}
    metadata: dict[str, Any] = {name: obj.props[p] for name, p in fields.items() if p in obj.props}
    if t == schema.EMAILS:
        metadata["direction"] = obj.props.get("hs_email_direction")
    return {
        "engagement": {
            "id": obj.id,
            "portalId": portal.portal_id,
            "active": True,
            "createdAt": obj.created,
            "lastUpdated": obj.updated,
            "type": kind,
            "timestamp": timestamp,
            "ownerId": int(owner) if owner and owner.isdigit() else None,
        },
        "associations": {
            **associations,
            "ticketIds": portal.assoc.of(t, obj.id, schema.TICKETS),
            "ownerIds": [],
            "workflowIds": [],
            "contentIds": [],
            "quoteIds": [],
            "marketingEventIds": [],
        },
        "attachments": [],
        "metadata": metadata,
    }


def paged(portal: Portal, req: Request) -> Reply:
    """`GET /engagements/v1/engagements/paged?limit&offset`: by id; `offset` is the last id of the page before."""
    # Page sizes beyond the maximum are cut to it, not refused (public clients send 250 to both endpoints).
    limit = min(req.q_int("limit", 100), PAGED_MAX)
    after = req.q_int("offset", 0)
    with portal.lock:
        rest = [(t, o) for t, o in _engagements(portal) if o.id > after]
        page = rest[:limit]
        results = [_json(portal, t, o) for t, o in page]
    last = page[-1][1].id if page else after
    return Reply(200, {"results": results, "hasMore": len(rest) > limit, "offset": last})


def recent(portal: Portal, req: Request) -> Reply:
    """`GET /engagements/v1/engagements/recent/modified?since&count&offset`: newest change first."""
    count = min(req.q_int("count", 20), RECENT_MAX)
    offset, since = req.q_int("offset", 0), req.q_int("since", 0)
    with portal.lock:
        changed = sorted(
            ((t, o) for t, o in _engagements(portal) if o.updated >= since), key=lambda p: (-p[1].updated, p[1].id)
        )[:RECENT_TOTAL_MAX]
        page = changed[offset : offset + count]
        results = [_json(portal, t, o) for t, o in page]
    more = offset + count < len(changed)
    return Reply(200, {"results": results, "hasMore": more, "offset": offset + len(page), "total": len(changed)})
