"""Values never stop a run, on SQLite and PostgreSQL, served by the sandbox portal over HTTP: ids beyond 64 bits
are left out per record (counted, and for the streams the gateway maps, logged), also inside
`hs_merged_object_ids`; characters a database text column refuses (NUL) are removed on the way in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from structlog.testing import capture_logs

from hubsync.sandbox.records import Owner
from hubsync.sandbox.server import start_sandbox
from hubsync.store.tables import activity_t, company_t, contact_t, owner_t

from .pull_support import UNPACED

HUGE = 2**64 + 7  # beyond any BIGINT
JUST_TOO_BIG = 2**63  # one past the largest BIGINT


def test_ids_beyond_64_bits_are_skipped_per_record_and_the_run_goes_on(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=60, seed=8, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        portal = sb.portal
        portal.create("contacts", {"email": "huge@odd.example", "firstname": "Huge"}, object_id=HUGE)
        survivor, merged = portal.stores["contacts"].live[:2]
        portal.update("contacts", survivor, {"hs_merged_object_ids": f"{HUGE};{merged};{JUST_TOO_BIG};0"})
        first = portal.owners[0]
        portal.owners.append(Owner(JUST_TOO_BIG, 1, "odd@owner.example", "Odd", "Owner", first.created, first.updated))
        puller = make_puller(sb)
        with capture_logs() as logs:
            result = puller()
        assert result.counts["contacts"].skipped == 1
        assert result.counts["owners"].skipped == 1
        skipped = [entry for entry in logs if entry["event"] == "pull.records_skipped"]
        assert any(entry["stream"] == "owners" and entry["examples"] == [str(JUST_TOO_BIG)] for entry in skipped)
        with puller.engine.connect() as conn:
            contacts = set(conn.execute(sa.select(contact_t.c.id)).scalars())
            owners = set(conn.execute(sa.select(owner_t.c.id)).scalars())
        # Everything else is there, the survivor included; the merge named a real id, which was taken as merged.
        assert contacts == set(portal.stores["contacts"].by_id) - {HUGE, merged}
        assert owners == {o.id for o in portal.owners} - {JUST_TOO_BIG}

        # The same in an incremental run (a search, keyset-paged by id): a new record with an id past 64 bits.
        portal.advance(60)
        portal.create("contacts", {"email": "huger@odd.example"}, object_id=HUGE + 1)
        portal.update("contacts", survivor, {"hs_merged_object_ids": f"{HUGE + 1};{merged}", "jobtitle": "CEO"})
        portal.advance(60)
        again = puller()
        # Both odd records: the new one, and the first one again (it changed inside the overlap the window re-reads).
        assert again.counts["contacts"].skipped == 2
        with puller.engine.connect() as conn:
            title = conn.execute(sa.select(contact_t.c.jobtitle).where(contact_t.c.id == survivor)).scalar_one()
        assert title == "CEO"


def test_a_nul_in_a_text_value_is_removed_and_every_later_run_works(make_puller: Callable[..., Any]) -> None:
    with start_sandbox(contacts=40, seed=9, rate_limits=False, per_ten_seconds=UNPACED) as sb:
        portal = sb.portal
        contact = portal.stores["contacts"].live[0]
        company = portal.stores["companies"].live[0]
        portal.update("contacts", contact, {"firstname": "Ana\x00Maria", "city": "K\x00öln"})
        portal.update("companies", company, {"name": "ACME\x00 GmbH"})
        portal.add_page_view(contact, "https://www.leadwerk.example/preise\x00")
        portal.advance(60)
        puller = make_puller(sb)
        puller()
        portal.update("contacts", contact, {"jobtitle": "\x00Head of IT\x00"})
        portal.advance(60)
        puller()
        puller()
        with puller.engine.connect() as conn:
            row = conn.execute(sa.select(contact_t).where(contact_t.c.id == contact)).one()
            name = conn.execute(sa.select(company_t.c.name).where(company_t.c.id == company)).scalar_one()
            urls = set(conn.execute(sa.select(activity_t.c.url).where(activity_t.c.contact_id == contact)).scalars())
        assert (row.firstname, row.jobtitle) == ("AnaMaria", "Head of IT")
        assert row.properties["city"] == "Köln"
        assert name == "ACME GmbH"
        assert "https://www.leadwerk.example/preise" in urls
        assert not any("\x00" in (url or "") for url in urls)
