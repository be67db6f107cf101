"""Export a portal to JSON and load one back, so a test can start from a hand-written portal.

The same portal always gives the same bytes: sections come in a fixed order, one record or row per line, and
nothing depends on hash order. The format (version 1) is described in this folder's README ("Snapshot format").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubsync.sandbox import schema
from hubsync.sandbox.catalog import BUILTIN_GROUPS, GroupDef, PropertyDef
from hubsync.sandbox.crm.parsing import to_ms
from hubsync.sandbox.personas import PERSONA_NAMES
from hubsync.sandbox.portal import (
    BOUNCE_CATEGORIES,
    EMAIL_EVENT_TYPES,
    PARTICIPATION_STATES,
    Portal,
)
from hubsync.sandbox.records import Campaign, CrmObject, Form, MarketingEvent, Owner

FORMAT = "hubsync-sandbox-portal"
VERSION = 1


class SnapshotError(ValueError):
    """A snapshot that cannot be loaded, with the reason."""


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _section(name: str, rows: list[str]) -> str:
    if not rows:
        return f'"{name}": []'
    return f'"{name}": [\n' + ",\n".join(rows) + "\n]"


def dumps(portal: Portal) -> bytes:
    p = portal
    s = p.strings
    head = {
        "now": p.now,
        "portalId": p.portal_id,
        "vendor": p.vendor,
        "seed": p.seed,
        "tier": p.tier,
        "nextId": p.next_id,
    }
    parts = [f'"format": {_j(FORMAT)}', f'"version": {VERSION}', f'"portal": {_j(head)}']
    parts.append(
        _section(
            "owners",
            [
                _j(
                    {
                        "id": o.id,
                        "userId": o.user_id,
                        "email": o.email,
                        "firstName": o.first_name,
                        "lastName": o.last_name,
                        "createdAt": o.created,
                        "updatedAt": o.updated,
                        "archived": o.archived,
                        "team": o.team,
                    }
                )
                for o in p.owners
            ],
        )
    )
    objects = []
    # The other standard types only when they hold records: a generated portal's snapshot reads as before.
    for t in (*schema.OBJECT_TYPES, *(t for t in schema.OTHER_TYPES if p.stores[t].by_id)):
        store = p.stores[t]
        rows = [
            _j(
                {
                    "id": o.id,
                    "createdAt": o.created,
                    "updatedAt": o.updated,
                    "archivedAt": o.archived_at,
                    "properties": o.props,
                }
            )
            for o in sorted(store.by_id.values(), key=lambda o: o.id)
        ]
        objects.append(_section(t, rows))
    parts.append('"objects": {\n' + ",\n".join(objects) + "\n}")
    parts.append(_section("merged", [_j([old, new]) for old, new in sorted(p.merged_into.items())]))
    order = {t: i for i, t in enumerate(schema.STANDARD_TYPES)}
    links: list[str] = []
    for (a, b), by_id in p.assoc.links.items():
        if order[a] > order[b]:
            continue
        for a_id in sorted(by_id):
            links.extend(_j([a, a_id, b, b_id, p.assoc.is_primary(a, a_id, b, b_id)]) for b_id in by_id[a_id])
    parts.append(_section("associations", links))
    custom = {
        t: [_property_json(d) for d in c.properties.values() if not d.hubspot_defined] for t, c in p.catalogs.items()
    }
    parts.append(f'"properties": {_j({t: v for t, v in custom.items() if v})}')
    builtin_groups = {t: {g.name for g in BUILTIN_GROUPS[t]} for t in schema.STANDARD_TYPES}
    groups = {
        t: [g.to_json() for g in c.groups.values() if g.name not in builtin_groups[t]] for t, c in p.catalogs.items()
    }
    parts.append(f'"propertyGroups": {_j({t: v for t, v in groups.items() if v})}')
    parts.append(
        _section(
            "forms",
            [
                _j(
                    {
                        "guid": f.guid,
                        "name": f.name,
                        "createdAt": f.created,
                        "updatedAt": f.updated,
                        "archived": f.archived,
                    }
                )
                for f in p.forms
            ],
        )
    )
    parts.append(
        _section(
            "emailCampaigns",
            [_j({"id": c.id, "name": c.name, "subject": c.subject, "sentAt": c.sent}) for c in p.campaigns],
        )
    )
    parts.append(
        _section(
            "marketingEvents",
            [
                _j(
                    {
                        "id": e.id,
                        "externalEventId": e.external_id,
                        "name": e.name,
                        "startAt": e.start,
                        "endAt": e.end,
                        "createdAt": e.created,
                        "updatedAt": e.updated,
                        "eventType": e.event_type,
                        "organizer": e.organizer,
                    }
                )
                for e in p.marketing_events
            ],
        )
    )
    parts.append(_section("pageViews", [_j([ts, i, c, s[u]]) for ts, i, c, u in p.page_views.rows()]))
    parts.append(
        _section(
            "emailEvents",
            [
                _j(
                    [
                        ts,
                        i,
                        s[r],
                        EMAIL_EVENT_TYPES[k],
                        camp,
                        None if u < 0 else s[u],
                        None if cat < 0 else BOUNCE_CATEGORIES[cat],
                    ]
                )
                for ts, i, r, k, camp, u, cat in p.email_events.rows()
            ],
        )
    )
    parts.append(
        _section(
            "formSubmissions",
            [_j([ts, i, p.forms[f].guid, c, s[e], s[page]]) for ts, i, f, c, e, page in p.form_submissions.rows()],
        )
    )
    parts.append(
        _section(
            "marketingEventParticipations",
            [
                _j([ts, i, p.marketing_events[e].id, c, PARTICIPATION_STATES[st]])
                for ts, i, e, c, st in p.participations.rows()
            ],
        )
    )
    # Last, so that a portal's other sections read as they did before intents were kept.
    parts.append(_section("intent", [_j([c, persona]) for c, persona in sorted(p.intent.items())]))
    return ("{\n" + ",\n".join(parts) + "\n}\n").encode()


def _property_json(d: PropertyDef) -> dict[str, Any]:
    return {
        "name": d.name,
        "label": d.label,
        "type": d.type,
        "fieldType": d.field_type,
        "groupName": d.group,
        "options": list(d.options),
        "description": d.description,
        "createdAt": d.created_at,
    }


def dump(portal: Portal, path: Path) -> None:
    path.write_bytes(dumps(portal))


def load(path: Path) -> Portal:
    return loads(path.read_bytes())


def _ms(value: Any, default: int, where: str) -> int:
    if value is None:
        return default
    if isinstance(value, int):
        return value
    ms = to_ms(str(value))
    if ms is None:
        raise SnapshotError(f"{where}: {value!r} is neither milliseconds nor an ISO instant")
    return ms


def loads(data: bytes | str) -> Portal:  # noqa: C901, PLR0912  # one pass over the sections, in format order
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise SnapshotError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format", FORMAT) != FORMAT or doc.get("version", VERSION) != VERSION:
        raise SnapshotError(f"not a {FORMAT} version {VERSION} document")
    head = doc.get("portal") or {}
    if "now" not in head:
        raise SnapshotError("portal.now is required")
    now = _ms(head["now"], 0, "portal.now")
    p = Portal(
        now=now,
        vendor=str(head.get("vendor", "leadwerk")),
        seed=head.get("seed"),
        portal_id=int(head.get("portalId", 9_900_001)),
        tier=str(head.get("tier", "enterprise")),
    )
    ids = [int(head.get("nextId", 1001))]

    def new_id(value: Any) -> int:
        if value is None:
            ids[0] += 1
            return ids[0] - 1
        return int(value)

    for o in doc.get("owners") or []:
        p.owners.append(
            Owner(
                int(o["id"]),
                int(o.get("userId", o["id"])),
                o["email"],
                o.get("firstName", ""),
                o.get("lastName", ""),
                _ms(o.get("createdAt"), now, "owner"),
                _ms(o.get("updatedAt"), now, "owner"),
                bool(o.get("archived", False)),
                o.get("team", "Vertrieb"),
            )
        )
    for t, records in (doc.get("objects") or {}).items():
        store = p.store(t)
        for r in records:
            created = _ms(r.get("createdAt"), now, f"{t} createdAt")
            obj = CrmObject(
                new_id(r.get("id")),
                created,
                _ms(r.get("updatedAt"), created, f"{t} updatedAt"),
                {str(k): str(v) for k, v in (r.get("properties") or {}).items() if v is not None},
                None if r.get("archivedAt") is None else _ms(r["archivedAt"], now, "archivedAt"),
            )
            store.add(obj)
    for old, new in doc.get("merged") or []:
        p.merged_into[int(old)] = int(new)
    for a, a_id, b, b_id, *rest in doc.get("associations") or []:
        p.assoc.add(
            schema.TYPE_ALIASES[a], int(a_id), schema.TYPE_ALIASES[b], int(b_id), primary=bool(rest and rest[0])
        )
    for t, defs in (doc.get("propertyGroups") or {}).items():
        for g in defs:
            p.catalogs[schema.TYPE_ALIASES[t]].groups[g["name"]] = GroupDef(
                g["name"], g.get("label", g["name"]), int(g.get("displayOrder", -1))
            )
    for t, defs in (doc.get("properties") or {}).items():
        for d in defs:
            p.catalogs[schema.TYPE_ALIASES[t]].properties[d["name"]] = PropertyDef(
                d["name"],
                d.get("label", d["name"]),
                d.get("type", "string"),
                d.get("fieldType", "text"),
                d.get("groupName", ""),
                tuple(d.get("options") or ()),
                hubspot_defined=False,
                description=d.get("description", ""),
                created_at=_ms(d.get("createdAt"), now, "property"),
            )
    for f in doc.get("forms") or []:
        p.forms.append(
            Form(
                f["guid"],
                f["name"],
                _ms(f.get("createdAt"), now, "form"),
                _ms(f.get("updatedAt"), now, "form"),
                bool(f.get("archived", False)),
            )
        )
    for c in doc.get("emailCampaigns") or []:
        p.campaigns.append(
            Campaign(int(c["id"]), c.get("name", ""), c.get("subject", ""), _ms(c.get("sentAt"), now, "campaign"))
        )
    for e in doc.get("marketingEvents") or []:
        start = _ms(e.get("startAt"), now, "marketing event")
        p.marketing_events.append(
            MarketingEvent(
                new_id(e.get("id")),
                e.get("externalEventId", str(e.get("id"))),
                e["name"],
                start,
                _ms(e.get("endAt"), start + 3_600_000, "marketing event"),
                _ms(e.get("createdAt"), now, "event"),
                _ms(e.get("updatedAt"), now, "event"),
                e.get("eventType", "WEBINAR"),
                e.get("organizer", ""),
            )
        )
    _load_logs(doc, p, new_id)
    for row in doc.get("intent") or []:
        if not (isinstance(row, list) and len(row) == 2 and row[1] in PERSONA_NAMES):  # noqa: PLR2004  # [id, persona]
            raise SnapshotError(f"intent: {row!r} is not [contact id, one of {', '.join(PERSONA_NAMES)}]")
        p.intent[int(row[0])] = str(row[1])
    logs = (p.page_views, p.email_events, p.form_submissions, p.participations)
    p.next_id = max(
        [
            ids[0],
            *(o.id + 1 for s in p.stores.values() for o in s.by_id.values()),
            *(e.id + 1 for e in p.marketing_events),
            *(max(log.col("id")) + 1 for log in logs if len(log)),
        ]
    )
    return p


def _load_logs(doc: dict[str, Any], p: Portal, new_id: Any) -> None:
    s = p.strings
    try:
        p.page_views.load(
            [
                (_ms(ts, p.now, "pageViews"), new_id(i), int(c), s.id(url))
                for ts, i, c, url in doc.get("pageViews") or []
            ]
        )
        p.email_events.load(
            [
                (
                    _ms(ts, p.now, "emailEvents"),
                    new_id(i),
                    s.id(r),
                    EMAIL_EVENT_TYPES.index(k),
                    int(camp or 0),
                    -1 if url is None else s.id(url),
                    -1 if cat is None else BOUNCE_CATEGORIES.index(cat),
                )
                for ts, i, r, k, camp, url, cat in doc.get("emailEvents") or []
            ]
        )
        forms = {f.guid: n for n, f in enumerate(p.forms)} | {f.name: n for n, f in enumerate(p.forms)}
        p.form_submissions.load(
            [
                (_ms(ts, p.now, "formSubmissions"), new_id(i), forms[f], int(c), s.id(email), s.id(page))
                for ts, i, f, c, email, page in doc.get("formSubmissions") or []
            ]
        )
        events = {str(e.id): n for n, e in enumerate(p.marketing_events)} | {
            e.external_id: n for n, e in enumerate(p.marketing_events)
        }
        p.participations.load(
            [
                (_ms(ts, p.now, "participations"), new_id(i), events[str(e)], int(c), PARTICIPATION_STATES.index(st))
                for ts, i, e, c, st in doc.get("marketingEventParticipations") or []
            ]
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise SnapshotError(f"bad activity row: {exc!r}") from exc
