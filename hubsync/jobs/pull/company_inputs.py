"""Which contacts a changed company rescores: only those whose scores read something that changed.

A contact's profile score, tier and competitor gate read its primary company (`scoring.contact.company_inputs`).
A company read again with another name or owner changes nothing of its contacts' scores: it is only aggregated
again from their stored scores (jobs/rescore.py). Compared before the page is stored, the held version against the
one that arrives.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy.engine import Connection

from hubsync.jobs.pull.run import Run
from hubsync.records import Company
from hubsync.scoring.contact import company_inputs
from hubsync.store.reads import companies_by_id, contact_ids_of_companies


def contacts_of_changed_companies(
    run: Run, conn: Connection, companies: Sequence[Company], changed: Collection[int]
) -> set[int]:
    """The live contacts of those `companies` among the `changed` ids whose inputs to contact scoring differ from
    the held version (a company not held, or archived, counts as none)."""
    arriving = [c for c in companies if c.id in changed]
    if not arriving:
        return set()
    model = run.options.scoring
    held = companies_by_id(conn, [c.id for c in arriving])
    differ = [
        c.id for c in arriving if model is None or company_inputs(held.get(c.id), model) != company_inputs(c, model)
    ]
    return contact_ids_of_companies(conn, differ)
