"""Engagement streams outside the CRM objects: marketing email events (legacy v1), forms and their submissions
(legacy v1), web events (events API v3, page views) and marketing event (webinar) participations."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hubsync.sandbox import responses
from hubsync.sandbox.crm_api import paging, parse_id, to_ms
from hubsync.sandbox.limits import EVENTS_API_TIERS
from hubsync.sandbox.portal import BOUNCE_CATEGORIES, EMAIL_EVENT_TYPES, PARTICIPATION_STATES, Portal
from hubsync.sandbox.responses import ApiError, Reply, iso
from hubsync.sandbox.routing import Request, Route

if TYPE_CHECKING:
    from collections.abc import Callable

EMAIL_EVENTS_MAX = 1000
SUBMISSIONS_MAX = 50
FORMS_MAX = 100  # (check) HubSpot does not document a maximum for the forms list
EVENTS_MAX = 1000  # (check) not documented either
MARKETING_EVENTS_MAX = 100
WEBINAR_APP = {"id": "4001", "name": "Sandbox Webinars"}
EXTERNAL_ACCOUNT_ID = "sandbox-webinars"


def _uuid(portal: Portal, row_id: int) -> str:
    return str(uuid.UUID(int=(portal.portal_id << 64) | row_id))


def _offset(req: Request, name: str) -> int:
    raw = req.q(name)
    if not raw:
        return 0
    if not raw.isdigit():
        raise responses.validation(f"Invalid {name} {raw!r}")
    return int(raw)


# ---- marketing email events (legacy) ------------------------------------------------------------------------


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
    offset = _offset(req, "offset")
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
                "id": _uuid(portal, ids[i]),
                "created": ts[i],
                "type": EMAIL_EVENT_TYPES[typ[i]],
                "recipient": portal.strings[rec[i]],
                "portalId": portal.portal_id,
                "appId": 113,
                "appName": "BatchEmail",
                "emailCampaignId": camp[i],
                "sentBy": {"id": _uuid(portal, camp[i]), "created": sent.get(camp[i], ts[i])},
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


# ---- forms --------------------------------------------------------------------------------------------------


def _form_json(form: Any) -> dict[str, Any]:
    # The SDK 12 model for a form field is a flattened oneOf that only accepts fieldType "payment_link_radio"
    # with the attributes of every field kind, so no real field definition deserializes: fields are left out.
    return {
        "id": form.guid,
        "name": form.name,
        "formType": "hubspot",
        "createdAt": iso(form.created),
        "updatedAt": iso(form.updated),
        "archived": form.archived,
        "fieldGroups": [],
        "configuration": {
            "language": "de",
            "cloneable": True,
            "editable": True,
            "archivable": True,
            "recaptchaEnabled": False,
            "notifyContactOwner": False,
            "notifyRecipients": [],
            "createNewContactForNewEmail": False,
            "prePopulateKnownValues": True,
            "allowLinkToResetKnownValues": False,
            "lifecycleStages": [],
            "postSubmitAction": {"type": "thank_you", "value": "Vielen Dank!"},
        },
        "displayOptions": {
            "renderRawHtml": False,
            "theme": "default_style",
            "submitButtonText": "Absenden",
            "cssClass": "",
            "style": {
                "fontFamily": "arial, helvetica, sans-serif",
                "backgroundWidth": "100%",
                "labelTextColor": "#33475b",
                "labelTextSize": "14px",
                "helpTextColor": "#7C98B6",
                "helpTextSize": "11px",
                "legalConsentTextColor": "#33475b",
                "legalConsentTextSize": "14px",
                "submitColor": "#ff7a59",
                "submitAlignment": "left",
                "submitFontColor": "#ffffff",
                "submitSize": "12px",
            },
        },
        "legalConsentOptions": {
            "type": "implicit_consent_to_process",
            "subscriptionTypeIds": [],
            "lawfulBasis": "lead",
            "privacyText": "Wir verwenden Ihre Angaben, um Sie zu kontaktieren.",
            "communicationsCheckboxes": [],
        },
    }


def list_forms(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 20, FORMS_MAX)
    offset = _offset(req, "after")
    archived = req.q_bool("archived")
    with portal.lock:
        forms = [f for f in portal.forms if f.archived == archived]
        page = forms[offset : offset + limit]
        following = str(offset + limit) if offset + limit < len(forms) else None
        return Reply(200, {"results": [_form_json(f) for f in page], **paging(following, req.path)})


def get_form(portal: Portal, req: Request) -> Reply:
    with portal.lock:
        form = next((f for f in portal.forms if f.guid == req.params["formId"]), None)
        if form is None:
            raise responses.not_found()
        return Reply(200, _form_json(form))


def form_submissions(portal: Portal, req: Request) -> Reply:
    limit = req.q_int("limit", 20, SUBMISSIONS_MAX)
    offset = _offset(req, "after")
    with portal.lock:
        form = next((f for f in portal.forms if f.guid == req.params["formGuid"]), None)
        if form is None:
            raise responses.not_found(f"Form {req.params['formGuid']} was not found")
        index = portal.forms.index(form)
        log = portal.form_submissions
        ts, ids, forms, contacts, emails, pages = log.data
        # Newest first, as HubSpot lists submissions.
        selected = [i for i in range(len(log) - 1, -1, -1) if forms[i] == index]
        page = selected[offset : offset + limit]
        results = []
        for i in page:
            contact = portal.stores["contacts"].by_id.get(portal.resolve_contact(contacts[i]))
            values = [{"name": "email", "value": portal.strings[emails[i]], "objectTypeId": "0-1"}]
            if contact is not None:
                values += [
                    {"name": n, "value": contact.props[n], "objectTypeId": "0-1"}
                    for n in ("firstname", "lastname", "company")
                    if n in contact.props
                ]
            results.append(
                {
                    "conversionId": _uuid(portal, ids[i]),
                    "submittedAt": ts[i],
                    "values": values,
                    "pageUrl": portal.strings[pages[i]],
                }
            )
        following = str(offset + limit) if offset + limit < len(selected) else None
        return Reply(200, {"results": results, **paging(following, req.path)})


# ---- events API (page views) --------------------------------------------------------------------------------


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
    offset = _offset(req, "after")
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
                    "id": _uuid(portal, ids[i]),
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


# ---- marketing events and participations --------------------------------------------------------------------


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
    offset = _offset(req, "after")
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
    offset = _offset(req, "after")
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


# ---- routes -------------------------------------------------------------------------------------------------


def _scope(name: str) -> Callable[[dict[str, str]], tuple[str, ...]]:
    return lambda _params: (name,)


PARTICIPATIONS = "/marketing/v3/marketing-events/participations"


def routes() -> list[Route]:
    events = _scope("crm.objects.marketing_events.read")
    return [
        Route("GET", "/email/public/v1/events", email_events, _scope("content")),
        Route("GET", "/marketing/v3/forms", list_forms, _scope("forms")),
        Route("GET", "/marketing/v3/forms/{formId}", get_form, _scope("forms")),
        Route("GET", "/form-integrations/v1/submissions/forms/{formGuid}", form_submissions, _scope("forms")),
        Route("GET", "/events/v3/events/event-types", web_event_types, _scope("crm.objects.contacts.read")),
        Route("GET", "/events/v3/events", web_events, _scope("crm.objects.contacts.read")),
        Route("GET", f"{PARTICIPATIONS}/contacts/{{contactIdentifier}}/breakdown", breakdown_by_contact, events),
        Route("GET", f"{PARTICIPATIONS}/{{eventId}}/breakdown", breakdown_by_event, events),
        Route("GET", f"{PARTICIPATIONS}/{{externalAccountId}}/{{eventId}}/breakdown", breakdown_by_event, events),
        Route("GET", f"{PARTICIPATIONS}/{{externalAccountId}}/{{eventId}}", counters_by_event, events),
        Route("GET", f"{PARTICIPATIONS}/{{eventId}}", counters_by_event, events),
        Route("GET", "/marketing/v3/marketing-events", list_marketing_events, events),
        Route("GET", "/marketing/v3/marketing-events/{objectId}", get_marketing_event, events),
    ]
