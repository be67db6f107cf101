"""The fewest API calls a pull needs at the APIs' page and batch limits, for the benches' rate floors
(`bench/pull.py`, `bench/scale.py`): what hubsync's calls are compared with, and, divided by the allowed rate, the
shortest time a run could take.

A first sync lists everything (the log streams over the pull's history); an incremental one reads what changed in
the portal since the previous run started, through search pages. Re-checks that are hubsync's own choice (the
overlap behind the cursor, associations of recently active contacts in turn, marketing event rosters) are not
part of the floor: they are what the comparison is meant to show.
"""

from __future__ import annotations

import math
from collections import Counter

from hubsync.hubspot.streams import associations, crm, email_events, forms, marketing_events, owners, web_events
from hubsync.jobs.pull import ASSOCIATION_PAIRS
from hubsync.sandbox.portal import Portal

# HubSpot's batch update and batch create take 100 inputs per call.
BATCH_WRITE = 100


def minimum_calls(portal: Portal, *, until_ms: int, history_ms: int, since_ms: int | None = None) -> dict[str, int]:
    """Calls per pull stream: a first sync at `until_ms` (`since_ms` None), or an incremental pull of what changed
    in [since_ms, until_ms]. Read under the portal's lock."""
    with portal.lock:
        if since_ms is None:
            return _first_sync(portal, until_ms, history_ms)
        return _incremental(portal, since_ms, until_ms)


def minimum_searches(portal: Portal, *, since_ms: int, until_ms: int) -> int:
    """The search pages among an incremental pull's calls (HubSpot allows 5 a second, apart from the 10-second
    budget): one page of 200 per CRM stream at least."""
    with portal.lock:
        changed = _changed_counts(portal, since_ms, until_ms)
    return sum(max(1, math.ceil(n / crm.SEARCH_LIMIT)) for n in changed.values())


def minimum_push_calls(records_pushed: int, tasks_created: int) -> int:
    """Batch updates and task creates: a lower bound (records of two object types may need one more call)."""
    return math.ceil(records_pushed / BATCH_WRITE) + math.ceil(tasks_created / BATCH_WRITE)


def _owners(portal: Portal, *, archived: bool) -> int:
    # The active owners are read whole every run; the archived list on the first run (and at each reconciliation,
    # which an incremental floor does not count).
    active = sum(1 for o in portal.owners if not o.archived)
    listed = max(1, math.ceil(active / owners.LIMIT))
    return listed + max(1, math.ceil((len(portal.owners) - active) / owners.LIMIT)) if archived else listed


def _crm_streams() -> tuple[tuple[str, str], ...]:
    return (
        ("companies", "companies"),
        ("contacts", "contacts"),
        ("deals", "deals"),
        *((f"engagement_{t}", t) for t in crm.ENGAGEMENT_OBJECTS.values()),
    )


def _first_sync(portal: Portal, started_ms: int, history_ms: int) -> dict[str, int]:
    out: dict[str, int] = {"owners": _owners(portal, archived=True)}
    for stream, object_type in _crm_streams():
        store = portal.stores[object_type]
        out[stream] = max(1, math.ceil(len(store.live) / crm.LIST_LIMIT)) + max(
            1, math.ceil(len(store.archived) / crm.LIST_LIMIT)
        )
    out["associations"] = sum(math.ceil(len(portal.stores[a].live) / associations.BATCH) for a, _ in ASSOCIATION_PAIRS)
    window = portal.email_events.between(started_ms - history_ms, started_ms - 1)
    out["email_events"] = max(1, math.ceil(len(window) / email_events.LIMIT))
    forms_col = portal.form_submissions.col("form")
    ts = portal.form_submissions.col("ts")
    per_form = Counter(forms_col[i] for i in range(len(ts)) if ts[i] >= started_ms - history_ms)
    out["form_submissions"] = math.ceil(len(portal.forms) / forms.FORMS_LIMIT) + sum(
        max(1, math.ceil(per_form.get(i, 0) / forms.SUBMISSIONS_LIMIT)) for i in range(len(portal.forms))
    )
    per_event = Counter(portal.participations.col("event"))
    out["marketing_events"] = math.ceil(len(portal.marketing_events) / marketing_events.LIMIT) + sum(
        max(1, math.ceil(per_event.get(i, 0) / marketing_events.LIMIT)) for i in range(len(portal.marketing_events))
    )
    views = portal.page_views.between(started_ms - history_ms, started_ms - 1)
    out["web_events"] = max(1, math.ceil(len(views) / web_events.LIMIT))
    return out


def changed_records(portal: Portal, object_type: str, since_ms: int, until_ms: int) -> list[int]:
    """Ids of the records of `object_type` (live or archived) modified in [since_ms, until_ms]."""
    return [i for i, o in portal.stores[object_type].by_id.items() if since_ms <= o.updated <= until_ms]


def _changed_counts(portal: Portal, since_ms: int, until_ms: int) -> dict[str, int]:
    return {t: len(changed_records(portal, t, since_ms, until_ms)) for _, t in _crm_streams()}


def _incremental(portal: Portal, since_ms: int, until_ms: int) -> dict[str, int]:
    out: dict[str, int] = {"owners": _owners(portal, archived=False)}
    changed = _changed_counts(portal, since_ms, until_ms)
    for stream, object_type in _crm_streams():
        n = changed[object_type]
        # One search page per stream at least (is there anything new?); engagements' contacts by batch read.
        out[stream] = max(1, math.ceil(n / crm.SEARCH_LIMIT))
        if object_type in crm.ENGAGEMENT_OBJECTS.values():
            out[stream] += math.ceil(n / associations.BATCH)
    out["associations"] = sum(math.ceil(changed[a] / associations.BATCH) for a, _ in ASSOCIATION_PAIRS)
    out["email_events"] = max(1, math.ceil(len(portal.email_events.between(since_ms, until_ms)) / email_events.LIMIT))
    out["web_events"] = max(1, math.ceil(len(portal.page_views.between(since_ms, until_ms)) / web_events.LIMIT))
    submitted = portal.form_submissions.between(since_ms, until_ms)
    forms_col = portal.form_submissions.col("form")
    per_form = Counter(forms_col[i] for i in submitted)
    out["form_submissions"] = (
        math.ceil(len(portal.forms) / forms.FORMS_LIMIT)
        + sum(math.ceil(n / forms.SUBMISSIONS_LIMIT) for n in per_form.values())
        if per_form
        else 0
    )
    events_col = portal.participations.col("event")
    per_event = Counter(events_col[i] for i in portal.participations.between(since_ms, until_ms))
    out["marketing_events"] = math.ceil(len(portal.marketing_events) / marketing_events.LIMIT) + sum(
        math.ceil(n / marketing_events.LIMIT) for n in per_event.values()
    )
    return out
