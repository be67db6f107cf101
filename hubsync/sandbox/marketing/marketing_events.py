"""Marketing events (webinars) and their participations: breakdowns by contact and by event, and counters."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses
from hubsync.sandbox.crm.answers import paging
from hubsync.sandbox.crm.parsing import parse_id
from hubsync.sandbox.marketing.rows import row_offset
from hubsync.sandbox.portal import PARTICIPATION_STATES
from hubsync.sandbox.responses import Reply, iso

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.routing import Request

MARKETING_EVENTS_MAX = 100
WEBINAR_APP = {"id": "4001", "name": "Sandbox Webinars"}
EXTERNAL_ACCOUNT_ID = "sandbox-webinars"


def _event_json(portal: Portal, index: int) -> dict[str, Any]:
    event = portal.marketing_events[index]
    counts = _counters(portal, index)
    return {
        "objectId": str(event.id),
        "externalEventId": event.external_id,
        "eventName": event.name,
        "eventType": event.event_type,
        "eventOrganizer": event.organizer,
        "eventDescription": f"{event.name} – live mit Q&A",
        "eventUrl": f"https://www.{portal.vendor}.example/webinare/{event.external_id}",
        "startDateTime": iso(event.start),
        "endDateTime": iso(event.end),
        "eventCancelled": False,
        "eventCompleted": event.end <= portal.now,
        "eventStatus": "COMPLETED" if event.end <= portal.now else "UPCOMING",
        "appInfo": WEBINAR_APP,
        "registrants": counts["registered"],
        "attendees": counts["attended"],
        "cancellations": counts["cancelled"],
        "noShows": counts["noShows"],
        "customProperties": [],
        "createdAt": iso(event.created),
        "updatedAt": iso(event.updated),
    }


def _counters(portal: Portal, index: int) -> dict[str, int]:
    log = portal.participations
    states = [log.data[4][i] for i in range(len(log)) if log.data[2][i] == index]
    by = {name: states.count(code) for code, name in enumerate(PARTICIPATION_STATES)}
    return {
        "attended": by["ATTENDED"],
        "registered": len(states) - by["CANCELLED"],
        "cancelled": by["CANCELLED"],
        "noShows": by["NO_SHOW"],
    }


def list_marketing_events(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 10, MARKETING_EVENTS_MAX)
    offset = row_offset(req, "after")
    with portal.lock:
        count = len(portal.marketing_events)
        results = [_event_json(portal, i) for i in range(offset, min(count, offset + limit))]
        following = str(offset + limit) if offset + limit < count else None
        return Reply(200, {"results": results, **paging(following, req.path)})


def get_marketing_event(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        event = portal.marketing_event(req.params["objectId"])
        if event is None:
            raise responses.not_found()
        return Reply(200, _event_json(portal, portal.marketing_events.index(event)))


def _breakdown(portal: Portal, req: Request, keep: Callable[[int, int], bool]) -> Reply:
    limit = req.q_int("limit", 10, 100)
    offset = row_offset(req, "after")
    state = req.q("state")
    if state is not None and state not in PARTICIPATION_STATES:
        raise responses.validation(f"Unknown state {state}")
    log = portal.participations
    ts, ids, events, contacts, states = log.data
    selected = [
        i
        for i in range(len(log))
        if keep(events[i], portal.resolve_contact(contacts[i]))
        and (state is None or PARTICIPATION_STATES[states[i]] == state)
    ]
    results = []
    for i in selected[offset : offset + limit]:
        event = portal.marketing_events[events[i]]
        contact_id = portal.resolve_contact(contacts[i])
        contact = portal.stores["contacts"].by_id.get(contact_id)
        props = contact.props if contact is not None else {}
        attended = PARTICIPATION_STATES[states[i]] == "ATTENDED"
        results.append(
            {
                "id": str(ids[i]),
                "createdAt": iso(ts[i]),
                "associations": {
                    "marketingEvent": {
                        "marketingEventId": str(event.id),
                        "externalEventId": event.external_id,
                        "externalAccountId": EXTERNAL_ACCOUNT_ID,
                        "name": event.name,
                    },
                    "contact": {
                        "contactId": str(contact_id),
                        "email": props.get("email", ""),
                        "firstname": props.get("firstname"),
                        "lastname": props.get("lastname"),
                    },
                },
                "properties": {
                    "occurredAt": ts[i],
                    "attendanceState": PARTICIPATION_STATES[states[i]],
                    **(
                        {"attendanceDurationSeconds": 2400 + ids[i] % 1200, "attendancePercentage": "80"}
                        if attended
                        else {}
                    ),
                },
            }
        )
    following = str(offset + limit) if offset + limit < len(selected) else None
    return Reply(200, {"total": len(selected), "results": results, **paging(following, req.path)})


def breakdown_by_contact(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        key = req.params["contactIdentifier"]
        found = parse_id(key)
        if found is None:
            found = next((o.id for o in portal.stores["contacts"].by_id.values() if o.props.get("email") == key), None)
        if found is None:
            raise responses.not_found(f"Contact {key} was not found")
        contact_id = portal.resolve_contact(found)
        return _breakdown(portal, req, lambda _e, c: c == contact_id)


def _event_index(portal: Portal, key: str, account: str | None = None) -> int:
    if account is not None and account != EXTERNAL_ACCOUNT_ID:
        raise responses.not_found(f"No marketing events for external account {account}")
    event = portal.marketing_event(key)
    if event is None:
        raise responses.not_found(f"Marketing event {key} was not found")
    return portal.marketing_events.index(event)


def breakdown_by_event(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        index = _event_index(portal, req.params["eventId"], req.params.get("externalAccountId"))
        return _breakdown(portal, req, lambda e, _c: e == index)


def counters_by_event(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        index = _event_index(portal, req.params["eventId"], req.params.get("externalAccountId"))
        return Reply(200, _counters(portal, index))
