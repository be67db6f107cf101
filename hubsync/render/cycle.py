"""What a cycle did, as text (`hubsync sync`, the demo): what the pull brought that is new or changed, kept apart
from what it only re-checked (owners are read whole and associations re-read every run, changed or not), then the
scores and the push."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.render.push import push_lines
from hubsync.render.text import counted, number

if TYPE_CHECKING:
    from hubsync.jobs.cycle import CycleResult
    from hubsync.jobs.pull import PullResult
    from hubsync.render.names import Names

# What a re-checked stream (jobs/pull/run.py: RECHECKED_STREAMS) stores, named.
_NOUNS = {"associations": "association", "owners": "owner"}


def pull_line(pulled: PullResult) -> str:
    """The pull in one line: "pulled 37 records (3 contacts and 1 company new or changed); re-checked 1,968
    associations and 8 owners"."""
    records = pulled.records
    contacts, companies = len(pulled.touched_contacts), len(pulled.touched_companies)
    changed = [counted(contacts, "contact")] if contacts else []
    changed += [counted(companies, "company", "companies")] if companies else []
    text = f"pulled {counted(records, 'record')} ({' and '.join(changed) or 'none'} new or changed)"
    deleted = sum(c.deleted for c in pulled.counts.values())
    if deleted:
        text += f", {number(deleted)} deleted in HubSpot"
    again = [counted(n, _NOUNS.get(stream, stream)) for stream, n in pulled.rechecked_by_stream.items() if n]
    return text + (f"; re-checked {' and '.join(again)}" if again else "")


def cycle_lines(result: CycleResult, names: Names | None = None) -> list[str]:
    lines = [f"run {result.run_id}: {result.outcome}; {pull_line(result.pulled)}"]
    if result.scored is not None:
        scored = result.scored
        lines.append(f"scored {counted(scored.contacts_scored, 'contact')} ({number(scored.contacts_changed)} changed)")
    if result.pushed is not None:
        lines += push_lines(result.pushed, names)
    return lines
