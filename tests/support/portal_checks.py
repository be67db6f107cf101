"""Checks of a sandbox portal against the local database, for tests that end with "the portal equals hubsync"."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from hubsync.jobs.properties import company_values, contact_values, property_names
from hubsync.sandbox import Sandbox
from hubsync.settings import PushConfig
from hubsync.store.tables import company_score_t, company_t, contact_score_t, contact_t


def assert_properties_in_portal(sb: Sandbox, engine: Engine, push_config: PushConfig) -> None:
    """Every live contact and company carries in the portal exactly the hubsync values of its local score."""
    names = {object_type: property_names(push_config, object_type) for object_type in ("contacts", "companies")}
    with engine.connect() as conn:
        contacts = {
            int(r["contact_id"]): contact_values(r, names["contacts"])
            for r in conn.execute(
                sa.select(contact_score_t)
                .join(contact_t, contact_t.c.id == contact_score_t.c.contact_id)
                .where(contact_t.c.archived_at.is_(None))
            ).mappings()
        }
        companies = {
            int(r["company_id"]): company_values(r, names["companies"])
            for r in conn.execute(
                sa.select(company_score_t)
                .join(company_t, company_t.c.id == company_score_t.c.company_id)
                .where(company_t.c.archived_at.is_(None))
            ).mappings()
        }
    for object_type, local in (("contacts", contacts), ("companies", companies)):
        with sb.portal.lock:
            store = sb.portal.store(object_type)
            in_portal = {
                object_id: {name: store.by_id[object_id].props.get(name) for name in names[object_type].values()}
                for object_id in store.live
            }
        assert set(in_portal) == set(local), f"{object_type}: live in the portal but not scored locally, or back"
        wrong = {i: (local[i], in_portal[i]) for i in local if local[i] != in_portal[i]}
        assert wrong == {}, f"{len(wrong)} {object_type} differ, e.g. {next(iter(wrong.items()))}"
