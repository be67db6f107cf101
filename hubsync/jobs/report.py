"""The calibration report's data: read the outcomes and the score history, replay the activities for the signal lift
and the backtest, and let `scoring.calibration` compute every figure. `report_data(...)` is the JSON the HTML page
is rendered from and `hubsync report --json` prints.

What it reads (one connection, no HubSpot call): `contact_outcome` whole (one query), the scorings at or above the
threshold floor (one query), the owners (one), the last effective threshold (one), the score history streamed once
for the weekly distribution, and, for the contacts in the signal lift or the backtest, their activities, contacts and
companies in batches of `BATCH` (three queries a batch): on 100,000 contacts that is the read of a full rescore, plus
`score_contact` for every contact with a deal and at most `calibration.BACKTEST_CONTROLS` without.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

import structlog

from hubsync.batching import batches
from hubsync.scoring import score_contact
from hubsync.scoring.calibration import (
    SIGNAL_WINDOW,
    CalibrationInput,
    LeadStatusMeaning,
    ReportOptions,
    Window,
    backtest_moments,
    calibration_report,
    first_crossings,
    reference_moments,
    signal_window,
    signals_between,
    threshold_range,
)
from hubsync.scoring.handoff import capacities
from hubsync.scoring.outcomes import ContactOutcome
from hubsync.store import outcomes as store
from hubsync.store.reads import activities_by_contact, companies_by_id, contacts_by_id
from hubsync.store.tasks import owners as stored_owners

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from hubsync.scoring.model import ScoringModel
    from hubsync.settings import ReportConfig, Settings

log = structlog.get_logger(__name__)

BATCH: Final = 2_000
_OUTCOME_FIELDS: Final = tuple(f.name for f in dataclasses.fields(ContactOutcome))


def report_data(engine: Engine, settings: Settings, *, now: datetime, since: datetime | None) -> dict[str, Any]:
    """The calibration report over [since, now] as JSON values (docs: the report contract, version 1)."""
    model = settings.config.scoring
    config = settings.config.report
    window = Window(since, now)
    with engine.connect() as conn:
        outcomes = [outcome_of(row) for row in store.outcome_rows(conn)]
        owners = stored_owners(conn)
        floor = threshold_range(model).start
        hot = store.scorings_at_or_above(conn, floor, until=now)
        crossings = first_crossings(((int(r.object_id), r.as_of, r.engagement, r.profile) for r in hot), model)
        observations, scores = _replay(conn, outcomes, model, window)
        data = CalibrationInput(
            outcomes=outcomes,
            owner_names={o.id: o.display_name for o in owners},
            crossings=crossings,
            open_task_capacity=sum(capacities(owners, model).values()),
            current_threshold=store.last_effective_threshold(conn),
            signal_observations=observations,
            backtest_scores=scores,
            history=_history(conn, now),
        )
        report = calibration_report(data, model, now=now, since=since, options=report_options(settings, config))
    log.info("report.computed", contacts=len(outcomes), since=since.isoformat() if since else None)
    return report.to_json()


def report_options(settings: Settings, config: ReportConfig) -> ReportOptions:
    return ReportOptions(
        min_n=config.min_n,
        period=config.period,
        sla_hours=settings.config.tasks.sla_hours,
        zone=ZoneInfo(settings.config.schedule.timezone),
        meaning=LeadStatusMeaning(
            worked=frozenset(config.worked_lead_statuses),
            rejected=frozenset(config.rejected_lead_statuses),
            nurture=frozenset(config.nurture_lead_statuses),
        ),
    )


def outcome_of(row: Any) -> ContactOutcome:
    # Row._mapping is SQLAlchemy's documented row-as-mapping accessor, despite the underscore.
    values = row._mapping  # noqa: SLF001
    return ContactOutcome(**{name: values[name] for name in _OUTCOME_FIELDS})


def _history(conn: Connection, now: datetime) -> Iterator[tuple[int, datetime, str, str | None]]:
    for row in store.stream_history(conn, until=now):
        yield int(row.object_id), row.as_of, row.segment, row.status


def _replay(
    conn: Connection, outcomes: Sequence[ContactOutcome], model: ScoringModel, window: Window
) -> tuple[list[tuple[bool, frozenset[str]]], list[tuple[int, int, bool]]]:
    """The signals each contact had in its 90 days (signal lift), and the backtest's scores: one pass over the
    activities of the contacts either needs, in batches."""
    moments = reference_moments(outcomes, window)
    windows = {o.contact_id: w for o in outcomes if (w := signal_window(o, window, moments)) is not None}
    backtest = backtest_moments(outcomes, window)
    observations: list[tuple[bool, frozenset[str]]] = []
    scores: list[tuple[int, int, bool]] = []
    wanted = sorted(set(windows) | set(backtest))
    for batch in batches(wanted, BATCH):
        activities = activities_by_contact(conn, batch, until=window.until)
        scored = [c for c in batch if c in backtest]
        contacts = contacts_by_id(conn, scored)
        companies = companies_by_id(conn, {c.company_id for c in contacts.values() if c.company_id is not None})
        for contact_id in batch:
            mine = activities.get(contact_id, [])
            if contact_id in windows:
                end, won = windows[contact_id]
                observations.append((won, frozenset(signals_between(mine, model, end - SIGNAL_WINDOW, end))))
            contact = contacts.get(contact_id)
            if contact_id in backtest and contact is not None:
                moment, with_deal = backtest[contact_id]
                company = companies.get(contact.company_id) if contact.company_id is not None else None
                score = score_contact(contact, company, mine, model, now=moment)
                scores.append((contact_id, score.engagement, with_deal))
    return observations, scores
