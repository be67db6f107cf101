"""`hubsync preview`: what a candidate config would change, measured on the local database, before it goes live.

Reads the database only (no HubSpot call, no lease, nothing written): every live contact is scored with the current
and the candidate model as of the same `now` on one read of its rows (`rescore.bulk_read`), so that the difference
is the model alone; the companies are aggregated from those scores for both. Each model's handoff is planned with the
open tasks and owners the database holds (`local_open_tasks`, as a webhook batch plans) through the cycle's own
`decide`, without texts, intents or writes. The backtest scores, with both models, the contacts the calibration
report's backtest scores (each contact with a deal as of the day before it, and a fixed sample without one at the
same moments), and the contacts at either model's threshold once more as of a week ago. `scoring/preview.py` turns
it all into the one dict `hubsync preview --json` prints and the text and the page are drawn from.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import structlog

from hubsync.batching import batches
from hubsync.jobs.names import read_names
from hubsync.jobs.open_tasks import local_open_tasks
from hubsync.jobs.report import outcome_of
from hubsync.jobs.rescore import BATCH, bulk_read, read_companies, stored_episode, worker_processes
from hubsync.jobs.workers import Workers
from hubsync.render.task_text import trigger_words
from hubsync.scoring import ContactScore, HandoffState, LeadStatus, advance, score_company, score_contact
from hubsync.scoring.calibration import Window, backtest_moments
from hubsync.scoring.contact import score_classified
from hubsync.scoring.handoff import Routing, capacities, decide, handoff_triggers, round_robin_ids
from hubsync.scoring.preview import (
    LISTED,
    RECENT,
    VERSION,
    Scoring,
    backtest_side,
    gained_tasks,
    handoff_side,
    lost_tasks,
    model_changes,
    moves,
    reached,
    settings_changes,
    status_changes,
    transitions,
)
from hubsync.store import tasks as task_store
from hubsync.store.outcomes import outcome_rows
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id, live_contact_ids
from hubsync.store.scores import live_company_ids, previous_contact_scores

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from hubsync.records import Company
    from hubsync.scoring import HandoffDecision, ScoringModel
    from hubsync.scoring.handoff import Assignment
    from hubsync.settings import HubsyncConfig

log = structlog.get_logger(__name__)

# Index of each model in the pairs below.
CURRENT, CANDIDATE = 0, 1


def preview(
    engine: Engine,
    current: HubsyncConfig,
    candidate: HubsyncConfig,
    *,
    now: datetime,
    sources: tuple[str, str],
    processes: int | None = None,
) -> dict[str, Any]:
    """The preview of `candidate` against `current` as of `now` (`sources`: where each config was read from).
    `processes`: as `rescore(processes=...)` for a full rescore that stores (None: one per core from
    `PARALLEL_FROM` contacts on; 1: all in this process)."""
    models = (current.scoring, candidate.scoring)
    # As in a full rescore: millions of short-lived tuples and no reference cycles, nothing for the cyclic collector.
    collecting = gc.isenabled()
    gc.disable()
    try:
        scored = _score_everyone(engine, models, now=now, processes=processes)
    finally:
        if collecting:
            gc.enable()
    decisions = _plan(engine, (current, candidate), scored)
    backtest = _backtest(engine, current, models, scored, decisions, now=now)
    lost = lost_tasks(decisions[CURRENT], decisions[CANDIDATE])
    tasks = decisions[CANDIDATE].assigned[:LISTED]
    names = read_names(engine, contacts={a.candidate.contact_id for a in tasks} | {c.contact_id for c in lost[:LISTED]})
    matrix = transitions((a.segment, b.segment) for a, b in scored.contacts.values())
    changed = sorted(
        [contact_id, a.segment, b.segment] for contact_id, (a, b) in scored.contacts.items() if a.segment != b.segment
    )
    document = {
        "version": VERSION,
        "as_of": now.isoformat(),
        "current": {"source": sources[CURRENT]},
        "candidate": {"source": sources[CANDIDATE]},
        "changes": {
            "model": model_changes(*models),
            "settings": settings_changes(_other_settings(current), _other_settings(candidate)),
        },
        "contacts": len(scored.contacts),
        "segments": {
            "matrix": matrix,
            "changed": len(changed),
            "moves": moves(matrix),
            "changed_contacts": changed,
        },
        "companies": {
            "scored": len(scored.companies),
            "changed_segment": sum(1 for a, b in scored.companies.values() if a != b),
        },
        "status": status_changes((a.status, b.status) for a, b in scored.contacts.values()),
        "handoff": {
            "open_tasks": sum(scored.open_tasks.values()),
            "current": handoff_side(decisions[CURRENT]),
            "candidate": handoff_side(decisions[CANDIDATE]),
            "new_under_candidate": gained_tasks(decisions[CURRENT], decisions[CANDIDATE]),
            "tasks": [_task(a, names.contact(a.candidate.contact_id), names.owner(a.owner_id), scored) for a in tasks],
            "lose_task": {
                "count": len(lost),
                "contacts": [
                    {
                        "contact_id": c.contact_id,
                        "name": names.contact(c.contact_id),
                        "engagement_current": c.engagement,
                        "engagement_candidate": scored.contacts[c.contact_id][CANDIDATE].engagement,
                    }
                    for c in lost[:LISTED]
                ],
            },
        },
        "backtest": backtest,
    }
    log.info(
        "preview.done",
        contacts=len(scored.contacts),
        changed_segment=len(changed),
        tasks_current=len(decisions[CURRENT].assigned),
        tasks_candidate=len(decisions[CANDIDATE].assigned),
    )
    return document


def _other_settings(config: HubsyncConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", exclude={"scoring"})


def _task(assignment: Assignment, name: str, owner: str, scored: _Scored) -> dict[str, Any]:
    contact_id = assignment.candidate.contact_id
    score = scored.queued_score(CANDIDATE, contact_id)
    triggers = [t.value for t in assignment.candidate.triggers]
    return {
        "contact_id": contact_id,
        "name": name,
        "owner": owner,
        "engagement": score.engagement,
        "segment": score.segment,
        "status": score.status.value,
        "triggers": list(trigger_words(triggers, score)),
        "beyond_capacity": assignment.over_capacity is not None,
        "reason": score.reason,
    }


# -- scoring everyone with both models ------------------------------------------------------------------------


class Side(NamedTuple):
    """One model's score of one contact, as much of it as the preview reads: what it counts and lists, and what the
    contact's company score reads (`score_company`). Small to send from a worker process, unlike a ContactScore."""

    segment: str
    status: str
    engagement: int
    fit_light: str
    last_positive_at: datetime | None
    persona: str | None


# (contact id, company id, its Side under the current model, under the candidate).
Pair = tuple[int, int | None, Side, Side]
# Per model: (score, episode moved on by that score) of the contacts a trigger or a hand-raise brings in.
Queued = tuple[list[tuple[ContactScore, HandoffState]], list[tuple[ContactScore, HandoffState]]]


@dataclass(frozen=True, slots=True)
class _Batch:
    pairs: list[Pair]
    queued: Queued


class _Scored:
    """Both models' scores of every live contact, the episodes of those a trigger might hand over, the companies'
    account segments under both, and the open tasks per owner."""

    def __init__(self) -> None:
        self.contacts: dict[int, tuple[Side, Side]] = {}
        self.queued: Queued = ([], [])
        self.companies: dict[int, tuple[str, str]] = {}
        self.open_tasks: Mapping[int, int] = {}

    def queued_score(self, model: int, contact_id: int) -> ContactScore:
        return next(score for score, _ in self.queued[model] if score.contact_id == contact_id)


def _score_everyone(
    engine: Engine, models: tuple[ScoringModel, ScoringModel], *, now: datetime, processes: int | None
) -> _Scored:
    """Every live contact scored with both models in batches, by worker processes as a full rescore is (same rule,
    same batches), else in this process; then the companies from those scores, here."""
    out = _Scored()
    open_tasks = local_open_tasks(engine)
    out.open_tasks = open_tasks.by_owner
    with engine.connect() as conn:
        ids = sorted(live_contact_ids(conn))
    job = partial(_pair_job, models=models, now=now, open_task_contacts=frozenset(open_tasks.contacts))
    workers = worker_processes(processes, len(ids))
    members: tuple[dict[int, list[Side]], ...] = (defaultdict(list), defaultdict(list))
    with Workers(engine, job, workers) if workers > 1 else nullcontext() as pool:
        tasks = batches(ids, BATCH)
        for batch in pool.map(tasks) if pool is not None else map(job(engine), tasks):
            for contact_id, company_id, current, candidate in batch.pairs:
                out.contacts[contact_id] = (current, candidate)
                if company_id is not None:
                    members[CURRENT][company_id].append(current)
                    members[CANDIDATE][company_id].append(candidate)
            for mine, theirs in zip(out.queued, batch.queued, strict=True):
                mine.extend(theirs)
    with engine.connect() as conn:
        for batch_ids in batches(live_company_ids(conn), BATCH):
            for company_id, company in companies_by_id(conn, batch_ids).items():
                a, b = (
                    score_company(company, members[i].get(company_id, ()), model, now=now).segment
                    for i, model in enumerate(models)
                )
                out.companies[company_id] = (a, b)
    return out


def _pair_job(
    engine: Engine, *, models: tuple[ScoringModel, ScoringModel], now: datetime, open_task_contacts: frozenset[int]
) -> Callable[[Sequence[int]], _Batch]:
    """What scores a batch of contacts with both models, in a worker process or in this one (`engine`: the
    process's own): one bulk read of the batch (`rescore.bulk_read`), each contact scored by both models with the
    status last stored (hysteresis), the episodes moved on for those a trigger or a hand-raise brings in."""
    companies: dict[int, Company | None] = {}

    def job(ids: Sequence[int]) -> _Batch:
        out = _Batch([], ([], []))
        with engine.connect() as conn:
            contacts, classified = bulk_read(conn, ids, models, now=now)
            read_companies(conn, contacts.values(), companies)
            previous = previous_contact_scores(conn, ids)
        for contact_id, contact in contacts.items():
            before = previous.get(contact_id)
            status = LeadStatus(before.status) if before is not None else None
            company = companies.get(contact.company_id) if contact.company_id is not None else None
            sides = []
            for i, model in enumerate(models):
                score = score_classified(
                    contact, company, classified[i].pop(contact_id, {}), model, now=now, previous_status=status
                )
                sides.append(
                    Side(
                        score.segment,
                        score.status.value,
                        score.engagement,
                        score.fit_light.value,
                        score.last_positive_at,
                        score.persona,
                    )
                )
                if score.hand_raise_at is not None or handoff_triggers(score, model):
                    state = stored_episode(before, open_task=contact_id in open_task_contacts)
                    out.queued[i].append((score, advance(state, score, model, now=now)))
            out.pairs.append((contact_id, contact.company_id, sides[CURRENT], sides[CANDIDATE]))
        return out

    return job


# -- the two handoff plans ------------------------------------------------------------------------------------


def _plan(
    engine: Engine, configs: tuple[HubsyncConfig, HubsyncConfig], scored: _Scored
) -> tuple[HandoffDecision, HandoffDecision]:
    """Each config's handoff decision with today's open tasks and owners (each with its own routing and capacity);
    the episodes were moved on as of `now` while scoring, as the rescore moves them before a cycle's handoff."""
    queued_ids = {score.contact_id for queue in scored.queued for score, _ in queue}
    with engine.connect() as conn:
        owners = task_store.owners(conn)
        owners_of = task_store.owners_of(conn, queued_ids)
    active = [o for o in owners if not o.archived]
    decisions = []
    for config, queue in zip(configs, scored.queued, strict=True):
        routing = Routing(
            routes=config.tasks.owner_routing,
            round_robin=round_robin_ids(config.tasks.round_robin_owners, active),
            capacity=capacities(active, config.scoring),
            load=scored.open_tasks,
            owners_of=owners_of,
        )
        decisions.append(decide(sorted(queue, key=lambda q: q[0].contact_id), routing, config.scoring))
    return decisions[CURRENT], decisions[CANDIDATE]


# -- the backtest ---------------------------------------------------------------------------------------------


def _backtest(
    engine: Engine,
    current: HubsyncConfig,
    models: tuple[ScoringModel, ScoringModel],
    scored: _Scored,
    decisions: tuple[HandoffDecision, HandoffDecision],
    *,
    now: datetime,
) -> dict[str, Any]:
    window = Window(None, now)
    min_n = current.report.min_n
    thresholds = tuple(d.effective_threshold for d in decisions)
    # Who stands at or above each model's threshold now: scored again as of a week ago, they say who reached it since.
    at_threshold = [
        {
            c
            for c, pair in scored.contacts.items()
            if reached(pair[i].engagement, pair[i].fit_light, thresholds[i], model)
        }
        for i, model in enumerate(models)
    ]
    with engine.connect() as conn:
        outcomes = [outcome_of(row) for row in outcome_rows(conn)]
        moments = backtest_moments(outcomes, window)
        sample = _score_at(conn, {c: at for c, (at, _) in moments.items()}, models)
        week_ago = now - RECENT
        before = _score_at(conn, dict.fromkeys(at_threshold[CURRENT] | at_threshold[CANDIDATE], week_ago), models)
    sides = {}
    for i, (name, model) in enumerate(zip(("current", "candidate"), models, strict=True)):
        crossed = sum(
            1
            for c in at_threshold[i]
            if c not in before or not reached(before[c][i].engagement, before[c][i].fit_light, thresholds[i], model)
        )
        sides[name] = backtest_side(
            model,
            thresholds[i],
            outcomes,
            window,
            (
                (Scoring(c, moments[c][0], pair[i].engagement, pair[i].profile), moments[c][1])
                for c, pair in sorted(sample.items())
            ),
            (len(at_threshold[i]), crossed),
            min_n=min_n,
        )
    return {"min_n": min_n, "recent_days": RECENT.days, **sides}


def _score_at(
    conn: Connection, moments: Mapping[int, datetime], models: Sequence[ScoringModel]
) -> dict[int, tuple[ContactScore, ...]]:
    """These contacts, each scored with every model as of its own moment (the per-contact path, in batches)."""
    out: dict[int, tuple[ContactScore, ...]] = {}
    for batch in batches(sorted(moments), BATCH):
        activities = activities_by_contact(conn, batch, until=max(moments[c] for c in batch))
        contacts = contacts_by_id(conn, batch)
        companies = companies_by_id(conn, {c.company_id for c in contacts.values() if c.company_id is not None})
        for contact_id, contact in contacts.items():
            company = companies.get(contact.company_id) if contact.company_id is not None else None
            mine = activities.get(contact_id, [])
            out[contact_id] = tuple(
                score_contact(contact, company, mine, model, now=moments[contact_id]) for model in models
            )
    return out
