"""Associations, reconciled: their changes touch neither record's modified date, so they are read again by record.

All of them every `full_reconcile_every`; else those of the records changed or with new activity in this run, plus
the next `recent_checks_per_run` contacts active within `recent`, in turn, so an idle run costs a request or two
and a change converges within len(recent) / recent_checks_per_run runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import structlog

from hubsync.batching import batches
from hubsync.hubspot import cursors
from hubsync.hubspot.cursors import AssociationsCursor
from hubsync.hubspot.streams import associations
from hubsync.jobs.pull.pipelined import prefetch
from hubsync.jobs.pull.run import Run
from hubsync.records import Association
from hubsync.store.activities import recently_active_contacts
from hubsync.store.associations import replace_associations
from hubsync.store.crm import live_ids
from hubsync.store.cursors import load_cursor, save_cursor
from hubsync.store.db import transaction

log = structlog.get_logger(__name__)

# The associations read per run; contacts→companies feeds the buying center, deals the closed-won feedback.
ASSOCIATION_PAIRS: Final = (("contacts", "companies"), ("deals", "contacts"), ("deals", "companies"))


def pull_associations(run: Run, stream: str) -> None:
    with transaction(run.engine) as conn:
        state = AssociationsCursor.from_json(load_cursor(conn, stream))
        full = cursors.due(state.reconciled_at, run.started, run.options.full_reconcile_every)
        live = {
            "contacts": set(live_ids(conn, "contacts")),
            "deals": set(live_ids(conn, "deals")),
        }
        # Contacts with new CRM activity in this run are the ones reps are working on now: re-checked every run.
        changed = {
            "contacts": (run.changed.get("contacts", set()) | run.contacts) & live["contacts"],
            "deals": run.changed.get("deals", set()) & live["deals"],
        }
        recent = sorted(recently_active_contacts(conn, run.started - run.options.recent) & live["contacts"])
    after = state.recent_after
    if full:
        # Archived records keep no associations of their own (see deletions.py): only live ones are read.
        from_ids = live
    else:
        turn, after = cursors.rolling_slice(recent, after=after, size=run.options.recent_checks_per_run)
        from_ids = {"contacts": changed["contacts"] | set(turn), "deals": changed["deals"]}
        log.info("pull.associations_in_turn", checked=len(turn), recent=len(recent), changed=len(changed["contacts"]))
    run.count(stream)  # reported even when no association was read
    chunks = [
        (from_type, to_type, chunk)
        for from_type, to_type in ASSOCIATION_PAIRS
        for chunk in batches(sorted(from_ids[from_type]), associations.BATCH)
    ]
    # Read ahead: the next chunks' calls go on while this one's associations are replaced.
    for (from_type, to_type, chunk), found in run.fetched(
        prefetch(_read(run, chunks), stream=stream, size=lambda read: len(read[1]))
    ):
        with transaction(run.engine) as conn:
            changed_from, changed_to = replace_associations(conn, from_type, to_type, chunk, found)
            run.touch(conn, from_type, changed_from)
            run.touch(conn, to_type, changed_to)
        run.page_done(stream, len(found))
    reconciled = run.started if full else state.reconciled_at
    with transaction(run.engine) as conn:
        save_cursor(conn, stream, AssociationsCursor(reconciled, after).to_json(), now=run.started)


_Chunk = tuple[str, str, Sequence[int]]


def _read(run: Run, chunks: list[_Chunk]) -> Iterator[tuple[_Chunk, list[Association]]]:
    """Each chunk with what HubSpot associates with its ids; reading needs no database."""
    for chunk in chunks:
        from_type, to_type, ids = chunk
        yield chunk, associations.read(run.client, from_type, to_type, ids)
