"""The pull records a job change: a `profile_change` activity when a contact hubsync holds arrives with another job
title or primary company (a first sighting, a title filled in, or a contact read again unchanged is none), and the
default model scores it as `job_change`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from hubsync.sandbox import snapshot
from hubsync.sandbox.server import start_sandbox
from hubsync.store.tables import activity_t

from .pull_support import Puller

NOW = "2025-06-02T09:00:00Z"


def _portal() -> str:
    def person(contact_id: int, title: str | None, company: int) -> dict[str, Any]:
        props = {"email": f"p{contact_id}@acme.example", "associatedcompanyid": str(company)}
        if title is not None:
            props["jobtitle"] = title
        return {"id": contact_id, "properties": props, "_company": company}

    people = [person(1, "Manager", 500), person(2, None, 500), person(3, "CTO", 500)]
    return json.dumps(
        {
            "format": "hubsync-sandbox-portal",
            "version": 1,
            "portal": {"now": NOW},
            "objects": {
                "contacts": [{k: v for k, v in p.items() if k != "_company"} for p in people],
                "companies": [
                    {"id": 500, "properties": {"name": "Acme"}},
                    {"id": 600, "properties": {"name": "Beta"}},
                ],
            },
            "associations": [["contacts", p["id"], "companies", p["_company"], True] for p in people],
        }
    )


def _changes(puller: Puller) -> list[tuple[int, str, str]]:
    with puller.engine.connect() as conn:
        rows = conn.execute(
            sa.select(activity_t.c.contact_id, activity_t.c.event_type, activity_t.c.title)
            .where(activity_t.c.kind == "profile_change")
            .order_by(activity_t.c.contact_id, activity_t.c.event_type)
        )
        return [(r.contact_id, r.event_type, r.title) for r in rows]


def test_a_new_job_title_or_company_is_a_profile_change_a_first_sighting_is_not(
    make_puller: Callable[..., Puller],
) -> None:
    with start_sandbox(portal=snapshot.loads(_portal()), rate_limits=False) as sb:
        puller = make_puller(sb)
        puller()
        assert _changes(puller) == []  # the first sighting of every contact
        portal = sb.portal
        portal.advance(60)
        portal.update("contacts", 1, {"jobtitle": "Head of IT"})
        portal.update("contacts", 2, {"jobtitle": "CEO"})  # filled in, not changed
        portal.dissociate("contacts", 3, "companies", 500)
        portal.associate("contacts", 3, "companies", 600, primary=True)
        portal.update("contacts", 3, {"associatedcompanyid": "600"})
        portal.advance(60)
        puller()
        puller()  # read again: the same change, not a second one
        assert _changes(puller) == [
            (1, "jobtitle", "Manager → Head of IT"),
            (3, "company", "company 500 → company 600"),
        ]
