"""Rescore from the database: read records, call the pure scoring, write current scores and history.

The imperative shell around `hubsync.scoring`: no HubSpot calls, no clock (the caller passes `now`). A full
rescore reads every live contact in id-ordered batches; an incremental one exactly the contacts it is given (the
pull names the contacts of a company whose inputs to their scores changed: jobs/pull/company_inputs.py), then
aggregates the given companies and the companies of those contacts again from the stored contact scores. A
history row is written whenever scores, segment or status change, and each batch clears the pending rows of what
it scored (store/pending.py) in the transaction that stores the new scores.
"""

from __future__ import annotations

import gc
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import structlog
from sqlalchemy.engine import Connection, Engine

from hubsync.batching import batches
from hubsync.errors import Interrupted
from hubsync.jobs.workers import Workers, usable_cores
from hubsync.records import Activity, Company, Contact
from hubsync.scoring import (
    CompanyScore,
    ContactScore,
    FitLight,
    HandoffState,
    LeadStatus,
    ScoringModel,
    Tier,
    advance,
    score_company,
    score_contact,
)
from hubsync.scoring.account import AccountMember
from hubsync.scoring.bulk import activity_arrays
from hubsync.scoring.compiled import CompiledModel
from hubsync.scoring.contact import engagements_in_bulk, score_engaged
from hubsync.scoring.engagement import Buckets, EngagementResult, classify_rows
from hubsync.store.db import transaction
from hubsync.store.pending import clear_pending, clear_pending_of_gone_records
from hubsync.store.reads import (
    activities_by_contact,
    activity_columns,
    activity_rows,
    companies_by_id,
    company_ids_of_contacts,
    contacts_by_id,
    contacts_in_range,
    live_contact_ids,
)
from hubsync.store.scores import (
    ScoredKind,
    drop_scores_of_gone_records,
    live_company_ids,
    member_scores,
    previous_contact_scores,
    store_scores,
    stored_scores,
)

log = structlog.get_logger(__name__)


BATCH = 2_000


@dataclass(frozen=True, slots=True)
class RescoreResult:
    contacts_scored: int
    contacts_changed: int
    companies_scored: int
    companies_changed: int
    segments: Mapping[str, int] = field(default_factory=dict)
    statuses: Mapping[str, int] = field(default_factory=dict)


def rescore(
    engine: Engine,
    model: ScoringModel,
    *,
    now: datetime,
    contact_ids: Collection[int] | None = None,
    company_ids: Collection[int] = (),
    write: bool = True,
    on_progress: Callable[[int], None] | None = None,
    stop: threading.Event | None = None,
    processes: int | None = None,
) -> RescoreResult:
    """Score the given contacts (None: all) and the affected companies as of `now`; store unless `write=False`.

    `on_progress` is called with the number of contacts finished after each batch (for a progress bar). A set
    `stop` ends the rescore between batches (each batch is its own transaction) with Interrupted. `processes`: at
    most this many worker processes score a rescore read in bulk that stores (a full one, or one whose contacts
    include every live one; None: one per core from `PARALLEL_FROM` contacts on; 1: all in this process).
    """
    # A full rescore allocates millions of short-lived records and tuples and creates no reference cycles: the
    # cyclic garbage collector would only walk them again and again (measured with bench/score.py).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _rescore(engine, model, now, contact_ids, company_ids, write, on_progress, stop, processes)
    finally:
        if collecting:
            gc.enable()


def _rescore(  # noqa: PLR0917  (the arguments of `rescore`, passed on as they are)
    engine: Engine,
    model: ScoringModel,
    now: datetime,
    contact_ids: Collection[int] | None,
    company_ids: Collection[int],
    write: bool,
    on_progress: Callable[[int], None] | None,
    stop: threading.Event | None,
    processes: int | None,
) -> RescoreResult:
    full = contact_ids is None
    touched_companies: set[int] = set(company_ids)
    with engine.connect() as conn:
        if contact_ids is None:
            targets = live_contact_ids(conn)
            bulk = True
        else:
            targets = sorted(set(contact_ids))
            # As stored, archived contacts included: a contact that is gone leaves its company's aggregate.
            touched_companies |= company_ids_of_contacts(conn, targets)
            bulk = covers_every_live_contact(conn, targets)
    targets.sort()
    segments: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    scored = changed = companies_scored = companies_changed = 0
    # A rescore read in bulk (a full one, a first cycle's) is spread over worker processes; others read little.
    workers = worker_processes(processes, len(targets)) if bulk and write else 1
    job = partial(_worker_job, model=model, now=now)
    with Workers(engine, job, workers) if workers > 1 else nullcontext() as pool:
        # The workers' job, for the batches this process scores while they start.
        here = job(engine)
        # A full rescore in this process has every contact's new score at hand for the account scores; its
        # workers have them each in their own process, and read them back from what this one has stored.
        members: dict[int, list[ContactScore]] | None = defaultdict(list) if full and pool is None else None
        # Companies are read once per rescore, not once per batch of their contacts.
        companies: dict[int, Company | None] = {}

        def score_contacts(conn: Connection, ids: Sequence[int]) -> _Scored:
            return _score_contacts(conn, ids, model, now=now, companies=companies, bulk=bulk, members=members)

        for batch in _batches("contact", targets, score_contacts, engine, pool=pool, here=here, write=write, stop=stop):
            scored += len(batch.rows)
            changed += len(batch.history)
            touched_companies.update(batch.companies)
            segments.update(batch.segments)
            statuses.update(batch.statuses)
            if on_progress is not None:
                on_progress(len(batch.ids))
        with transaction(engine) as conn:
            if full:
                company_targets = live_company_ids(conn)
                if write:
                    drop_scores_of_gone_records(conn)
                    clear_pending_of_gone_records(conn)
            else:
                company_targets = sorted(touched_companies)

        def score_companies(conn: Connection, ids: Sequence[int]) -> _Scored:
            return _score_companies(conn, ids, model, now=now, members=members)

        for batch in _batches(
            "company", company_targets, score_companies, engine, pool=pool, here=here, write=write, stop=stop
        ):
            companies_scored += len(batch.rows)
            companies_changed += len(batch.history)
    result = RescoreResult(scored, changed, companies_scored, companies_changed, dict(segments), dict(statuses))
    log.info(
        "score.finished",
        full=full,
        contacts=scored,
        contacts_changed=changed,
        companies=companies_scored,
        companies_changed=companies_changed,
        stored=write,
        processes=workers,
    )
    return result


def covers_every_live_contact(conn: Connection, targets: Sequence[int]) -> bool:
    """Whether `targets` include every live contact (a first cycle's pending contacts are all of them): each batch
    then holds every live id of its range, as a full rescore's do, so it is read and scored in bulk, with the same
    scores as contact by contact (tests/integration/scoring_db/test_bulk_rescore.py)."""
    if len(targets) < BATCH:
        return False
    live = live_contact_ids(conn)
    return len(live) <= len(targets) and set(live) <= set(targets)


def _check(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Interrupted("rescore stopped on request; scores stored so far are kept, the rest follow next run")


# From this many contacts on, a full rescore that stores is spread over a process per core: below it, starting
# them costs more than they save.
PARALLEL_FROM = 20_000


def worker_processes(processes: int | None, contacts: int) -> int:
    """How many processes score a full rescore of `contacts` that stores, given `rescore(processes=...)`."""
    if processes is not None:
        return max(1, processes)
    if contacts < PARALLEL_FROM:
        return 1
    return usable_cores()


@dataclass(frozen=True, slots=True)
class _Scored:
    """One batch scored: what to store, and what the rescore counts. Plain rows only, cheap to send from a worker
    process to the one that stores (a ContactScore costs more to pickle than to compute)."""

    ids: Sequence[int]
    # Tuples of store.scores.SCORE_COLUMNS[kind] and HISTORY_COLUMNS.
    rows: list[tuple[Any, ...]]
    history: list[tuple[Any, ...]]
    # Of `ids`, those gone from the database (their scores are dropped).
    gone: list[int]
    # The companies of the batch's contacts (an incremental rescore aggregates them again).
    companies: set[int] = field(default_factory=set)
    segments: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)


def _batches(
    kind: ScoredKind,
    targets: Sequence[int],
    score: Callable[[Connection, Sequence[int]], _Scored],
    engine: Engine,
    *,
    pool: Workers[tuple[ScoredKind, Sequence[int]], _Scored] | None,
    here: Callable[[tuple[ScoredKind, Sequence[int]]], _Scored],
    write: bool,
    stop: threading.Event | None,
) -> Iterator[_Scored]:
    """The targets scored in batches of BATCH ids, each stored in a transaction of its own (unless not `write`), in
    id order: by `score` within that transaction, or by the pool's workers and then stored here as they come back
    (and by `here`, the workers' job run in this process, while they start)."""
    if pool is None:
        for ids in batches(targets, BATCH):
            _check(stop)
            with transaction(engine) as conn:
                batch = score(conn, ids)
                if write:
                    _store(conn, kind, batch)
            yield batch
        return

    def here_checked(task: tuple[ScoredKind, Sequence[int]]) -> _Scored:
        _check(stop)
        return here(task)

    tasks = ((kind, ids) for ids in batches(targets, BATCH))
    for batch in pool.map(tasks, here=here_checked):
        _check(stop)
        with transaction(engine) as conn:
            _store(conn, kind, batch)
        yield batch


def _store(conn: Connection, kind: ScoredKind, batch: _Scored) -> None:
    store_scores(conn, kind, batch.rows, batch.history, gone=batch.gone)
    clear_pending(conn, "contacts" if kind == "contact" else "companies", batch.ids)


def _worker_job(
    engine: Engine, *, model: ScoringModel, now: datetime
) -> Callable[[tuple[ScoredKind, Sequence[int]]], _Scored]:
    """What a worker process of a full rescore does with a task (`engine`: the worker's own): reads and scores a
    batch of contacts (the bulk read) or companies (members read back from the stored contact scores); it stores
    nothing."""
    companies: dict[int, Company | None] = {}

    def job(task: tuple[ScoredKind, Sequence[int]]) -> _Scored:
        kind, ids = task
        with transaction(engine) as conn:
            if kind == "contact":
                return _score_contacts(conn, ids, model, now=now, companies=companies, bulk=True, members=None)
            return _score_companies(conn, ids, model, now=now, members=None)

    return job


def _score_contacts(
    conn: Connection,
    ids: Sequence[int],
    model: ScoringModel,
    *,
    now: datetime,
    companies: dict[int, Company | None],
    bulk: bool,
    members: dict[int, list[ContactScore]] | None,
) -> _Scored:
    """Score one batch of contacts (ids in ascending order). `bulk` (the full rescore, whose batches hold every live
    id of their range): read the range with only the columns scoring needs, by column, and compute the engagement
    of the whole batch at once over arrays (scoring/bulk.py), instead of an Activity per row and the engagement per
    contact; the scores are the same. Each new score is added to its company's list in `members`, when given."""
    activities: dict[int, list[Activity]] = {}
    engaged: dict[int, EngagementResult] = {}
    if bulk:
        contacts = contacts_in_range(conn, ids[0], ids[-1], properties=_contact_properties(model.compiled))
        engaged = _engaged_in_bulk(conn, contacts, ids, model, now=now)
    else:
        contacts = contacts_by_id(conn, ids)
        activities = activities_by_contact(conn, list(contacts), until=now)
    read_companies(conn, contacts.values(), companies)
    previous = previous_contact_scores(conn, ids)
    out = _Scored(ids, [], [], [i for i in ids if i not in contacts])
    rows = out.rows
    history = out.history
    for contact_id, contact in contacts.items():
        before = previous.get(contact_id)
        company = companies.get(contact.company_id) if contact.company_id is not None else None
        status = LeadStatus(before.status) if before is not None else None
        if bulk:
            score = score_engaged(contact, company, engaged[contact_id], model, previous_status=status)
        else:
            score = score_contact(
                contact, company, activities.get(contact_id, ()), model, now=now, previous_status=status
            )
        episode = advance(stored_episode(before), score, model, now=now)
        out.segments[score.segment] += 1
        out.statuses[score.status.value] += 1
        if contact.company_id is not None:
            out.companies.add(contact.company_id)
            if members is not None:
                members[contact.company_id].append(score)
        rows.append(_contact_row(score, episode=episode, now=now))
        if before is None or _changed(before, score.engagement, score.profile, score.segment, score.status.value):
            history.append(
                _history(
                    "contact",
                    contact_id,
                    engagement=score.engagement,
                    profile=score.profile,
                    segment=score.segment,
                    status=score.status.value,
                    now=now,
                )
            )
    return out


def bulk_read(
    conn: Connection, ids: Sequence[int], models: Sequence[ScoringModel], *, now: datetime
) -> tuple[dict[int, Contact], tuple[dict[int, Buckets], ...]]:
    """`hubsync preview`'s read of one batch (ids ascending, every live id of their range): the contacts with only
    the properties the models' rules read, and the activities up to `now` read once and grouped by the signals of
    each model, in the order given (it scores two models on one read). Reads only."""
    properties = sorted({p for model in models for p in _contact_properties(model.compiled)})
    columns = tuple(dict.fromkeys(f for model in models for f in model.compiled.key_fields))
    contacts = contacts_in_range(conn, ids[0], ids[-1], properties=properties)
    rows = activity_rows(conn, ids[0], ids[-1], until=now, fields=columns)
    return contacts, tuple(classify_rows(rows, model.compiled, columns) for model in models)


def _engaged_in_bulk(
    conn: Connection, contacts: Mapping[int, Contact], ids: Sequence[int], model: ScoringModel, *, now: datetime
) -> dict[int, EngagementResult]:
    """The engagement of each of the batch's contacts (`ids`: the batch, ascending), all at once over the arrays
    of their activities (scoring/bulk.py)."""
    cm = model.compiled
    read = activity_columns(conn, ids[0], ids[-1], until=now, fields=cm.key_fields)
    arrays = activity_arrays(read.contact, read.micros, read.code, read.keys, cm, columns=cm.key_fields)
    live = sorted(contacts)
    return dict(zip(live, engagements_in_bulk([contacts[i] for i in live], arrays, model, now=now), strict=True))


def read_companies(conn: Connection, contacts: Iterable[Contact], companies: dict[int, Company | None]) -> None:
    """Adds the primary companies of `contacts` that `companies` lacks (None: gone): each is read once per rescore,
    not once per batch of its contacts."""
    needed = {c.company_id for c in contacts if c.company_id is not None} - companies.keys()
    found = companies_by_id(conn, needed)
    companies.update({company_id: found.get(company_id) for company_id in needed})


def _contact_properties(cm: CompiledModel) -> list[str]:
    """The contact properties profile rules read from `properties` (the others are columns of their own)."""
    return sorted({rule.property for rule in cm.rules if rule.source == "contact" and rule.field is None})


def _score_companies(
    conn: Connection,
    ids: Sequence[int],
    model: ScoringModel,
    *,
    now: datetime,
    members: Mapping[int, Sequence[AccountMember]] | None,
) -> _Scored:
    """Score one batch of companies from their contacts' new scores (`members`; None: as stored)."""
    companies = companies_by_id(conn, ids)
    if members is None:
        members = _stored_members(conn, companies)
    previous = stored_scores(conn, "company", ids)
    out = _Scored(ids, [], [], [i for i in ids if i not in companies])
    rows = out.rows
    history = out.history
    for company_id, company in companies.items():
        score = score_company(company, members.get(company_id, ()), model, now=now)
        rows.append(_company_row(score, now=now))
        before = previous.get(company_id)
        if before is None or _changed(before, score.engagement, score.profile, score.segment, None):
            history.append(
                _history(
                    "company",
                    company_id,
                    engagement=score.engagement,
                    profile=score.profile,
                    segment=score.segment,
                    status=None,
                    now=now,
                )
            )
    return out


def _stored_members(conn: Connection, companies: Collection[int]) -> dict[int, list[AccountMember]]:
    """The stored scores of the companies' contacts, as much as account scoring reads (an incremental rescore has
    only some of them at hand, a full one's workers none)."""
    members: dict[int, list[AccountMember]] = {company_id: [] for company_id in companies}
    for row in member_scores(conn, companies):
        members[row.company_id].append(row)
    return members


def _changed(before: Any, engagement: int, profile: int, segment: str, status: str | None) -> bool:
    old_status = getattr(before, "status", None)
    return (before.engagement, before.profile, before.segment, old_status) != (engagement, profile, segment, status)


def _history(
    object_type: str,
    object_id: int,
    *,
    engagement: int,
    profile: int,
    segment: str,
    status: str | None,
    now: datetime,
) -> tuple[Any, ...]:
    """A score_history row, in store.scores.HISTORY_COLUMNS order."""
    return (object_type, object_id, engagement, profile, segment, status, now)


def _contact_row(score: ContactScore, *, episode: HandoffState, now: datetime) -> tuple[Any, ...]:
    """A contact_score row, in store.scores.SCORE_COLUMNS["contact"] order (a tuple: a dict per row cost more
    than the database spends storing it)."""
    return (
        score.contact_id,
        score.engagement,
        score.profile,
        score.completeness,
        score.segment,
        score.status.value,
        score.fit_light.value,
        score.tier.value,
        score.surge,
        score.reason,
        score.persona,
        score.last_positive_at,
        # The rescore's part of the episode; a handoff writes the rest (store/tasks.py `record_created`).
        episode.armed,
        episode.triggers_held_at,
        score.hand_raise_at,
        list(score.gates),
        now,
    )


def _company_row(score: CompanyScore, *, now: datetime) -> tuple[Any, ...]:
    """A company_score row, in store.scores.SCORE_COLUMNS["company"] order."""
    return (
        score.company_id,
        score.engagement,
        score.profile,
        score.completeness,
        score.segment,
        score.fit_light.value,
        score.tier.value,
        score.buying_center_active,
        score.active_contacts,
        score.engaged_contacts,
        list(score.personas_missing),
        score.reason,
        now,
    )


def stored_contact_score(row: Any) -> ContactScore:
    """A ContactScore from its `contact_score` row (account scoring and the handoff read them back)."""
    return ContactScore(
        contact_id=row.contact_id,
        engagement=row.engagement,
        profile=row.profile,
        completeness=row.completeness,
        fit_light=FitLight(row.fit_light),
        tier=Tier(row.tier),
        segment=row.segment,
        status=LeadStatus(row.status),
        surge=row.surge,
        reason=row.reason,
        last_positive_at=row.last_positive_at,
        persona=row.persona,
        gates=tuple(row.gates or ()),
        hand_raise_at=row.hand_raise_at,
    )


def stored_episode(row: Any, *, open_task: bool = False) -> HandoffState:
    """A contact's handoff episode from its `contact_score` row (None: a contact never scored)."""
    if row is None:
        return HandoffState(open_task=open_task)
    return HandoffState(
        open_task=open_task,
        armed=row.handoff_armed,
        handed_over_at=row.handed_over_at,
        triggers_held_at=row.triggers_held_at,
        hand_raise_seen_at=row.hand_raise_seen_at,
    )
