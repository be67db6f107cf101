"""The SQL tables. Alembic migrations in `migrations/versions` create exactly these (a test checks that).

CRM ids are HubSpot's numeric ids (BIGINT). Every time is UTC (`UTCDateTime`). Raw HubSpot properties are kept as
JSON so a profile rule can name any property without a schema change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, Text, text, true
from sqlmodel import Field, SQLModel

from hubsync.store.types import UTCDateTime


def _id(*, primary_key: bool = False, index: bool = False) -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger, primary_key=primary_key, index=index, autoincrement=False),
    )


def _time(*, index: bool = False, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), index=index, nullable=nullable))


def _json() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ContactRow(SQLModel, table=True):
    __tablename__ = "contact"

    id: int = _id(primary_key=True)
    email: str | None = Field(default=None, index=True)
    firstname: str | None = None
    lastname: str | None = None
    jobtitle: str | None = None
    country: str | None = None
    lifecyclestage: str | None = None
    owner_id: int | None = _id()
    company_id: int | None = _id(index=True)
    created_at: datetime | None = _time()
    updated_at: datetime | None = _time()
    properties: dict[str, str] = _json()
    archived_at: datetime | None = _time()


class CompanyRow(SQLModel, table=True):
    __tablename__ = "company"

    id: int = _id(primary_key=True)
    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    numberofemployees: str | None = None
    annualrevenue: str | None = None
    country: str | None = None
    owner_id: int | None = _id()
    created_at: datetime | None = _time()
    updated_at: datetime | None = _time()
    properties: dict[str, str] = _json()
    archived_at: datetime | None = _time()


class OwnerRow(SQLModel, table=True):
    __tablename__ = "owner"

    id: int = _id(primary_key=True)
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    user_id: int | None = _id()
    archived: bool = False
    # Open hubsync tasks in HubSpot (docs/scoring.md: capacity counts hubsync tasks): the seller factor's load.
    open_tasks: int = 0


class DealRow(SQLModel, table=True):
    __tablename__ = "deal"

    id: int = _id(primary_key=True)
    name: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    amount: str | None = None
    closed_won: bool | None = None
    close_date: datetime | None = _time()
    owner_id: int | None = _id()
    created_at: datetime | None = _time()
    updated_at: datetime | None = _time()
    archived_at: datetime | None = _time()


class AssociationRow(SQLModel, table=True):
    __tablename__ = "association"
    __table_args__ = (Index("ix_association_to", "to_type", "to_id"),)

    from_type: str = Field(primary_key=True)
    from_id: int = _id(primary_key=True)
    to_type: str = Field(primary_key=True)
    to_id: int = _id(primary_key=True)
    type_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    label: str | None = None


class ActivityRow(SQLModel, table=True):
    """Keyed by contact and time, so a contact's activities are stored together: a rescore reads them as one range
    (on SQLite the table is clustered on this key, WITHOUT ROWID, which halves the read time of a full rescore).
    An activity is identified by `id`, unique across streams; upserts use that (`upsert_key`)."""

    __tablename__ = "activity"
    __table_args__ = (
        Index("ux_activity_id", "id", unique=True),
        {"sqlite_with_rowid": False, "info": {"upsert_key": ("id",)}},
    )

    contact_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    # "<stream>:<source id>", unique across streams (see records.Activity).
    id: str = Field(primary_key=True)
    kind: str
    event_type: str | None = None
    url: str | None = Field(default=None, sa_column=Column(Text))
    title: str | None = None
    form_id: str | None = None
    form_name: str | None = None
    campaign_id: str | None = None
    event_name: str | None = None
    direction: str | None = None
    status: str | None = None


class EngagementRow(SQLModel, table=True):
    """Every engagement (call, email, meeting, note, task) HubSpot has, by id, with those linked to no contact (which
    leave no activity): what the pull holds against HubSpot's count of the same to notice deletions."""

    __tablename__ = "engagement"

    object_type: str = Field(primary_key=True)
    id: int = _id(primary_key=True)
    created_at: datetime | None = _time()
    archived_at: datetime | None = _time()
    # Who logged it (`hubspot_owner_id`): a rep's first call, meeting or email after a handoff is the response.
    owner_id: int | None = _id()


class SyncCursorRow(SQLModel, table=True):
    """Where each stream stopped. `state` is the stream's own JSON (time, id, offsets); saved with its page."""

    __tablename__ = "sync_cursor"

    stream: str = Field(primary_key=True)
    state: dict[str, Any] = _json()
    updated_at: datetime | None = _time()


def _push_pending() -> Any:
    """Set by every write of a score row (store/scores.py), cleared once push has diffed the row and HubSpot holds
    its values (store/pushed.py `settle`): the rows an incremental cycle diffs. A flag, not a time: a score written
    twice at one instant (a clock that stands still in a test, a clock stepped back) is still diffed."""
    return Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))


def _push_pending_index(table: str, key: str) -> Index:
    """The pending rows alone, in id order: finding them costs what is pending, not the table. SQLite uses a partial
    index only for a query that repeats its WHERE term, and SQLAlchemy writes a boolean's truth there as `= 1`."""
    name = f"ix_{table}_push_pending"
    return Index(name, key, sqlite_where=text("push_pending = 1"), postgresql_where=text("push_pending"))


class ContactScoreRow(SQLModel, table=True):
    """A contact's current scores (scoring.ContactScore) and its handoff state."""

    __tablename__ = "contact_score"
    __table_args__ = (_push_pending_index("contact_score", "contact_id"),)

    contact_id: int = _id(primary_key=True)
    engagement: int
    profile: int
    # Share of profile rules whose value was known, in whole percent.
    completeness: int
    segment: str = Field(sa_column=Column(String(2), nullable=False, index=True))
    status: str
    fit_light: str
    tier: str
    surge: bool
    reason: str = Field(sa_column=Column(Text, nullable=False))
    persona: str | None = None
    last_positive_at: datetime | None = _time()
    # The contact's handoff episode (scoring.handoff.HandoffState): False from a handoff until no trigger has held
    # for `rearm_after_days`; when it was handed over; the last scoring at which a trigger held; the newest
    # hand-raise sales has heard of. The rescore writes `handoff_armed` and `triggers_held_at`, a handoff all four.
    handoff_armed: bool = True
    handed_over_at: datetime | None = _time()
    triggers_held_at: datetime | None = _time()
    hand_raise_seen_at: datetime | None = _time()
    # The newest hand-raiser activity within `hand_raiser_days` of `as_of` (scoring.ContactScore.hand_raise_at).
    hand_raise_at: datetime | None = _time()
    # The profile gates that capped the score (a competitor's hand-raise gets no task).
    gates: list[str] | None = Field(default=None, sa_column=Column(JSON))
    # Why the last handoff left this contact without a task it is due ("waiting for capacity", …); None otherwise.
    handoff_waiting: str | None = Field(default=None, sa_column=Column(Text))
    as_of: datetime = _time(nullable=False)
    push_pending: bool = _push_pending()


class CompanyScoreRow(SQLModel, table=True):
    """A company's current account scores (scoring.CompanyScore)."""

    __tablename__ = "company_score"
    __table_args__ = (_push_pending_index("company_score", "company_id"),)

    company_id: int = _id(primary_key=True)
    engagement: int
    profile: int
    completeness: int
    segment: str = Field(sa_column=Column(String(2), nullable=False))
    fit_light: str
    tier: str
    buying_center_active: bool
    active_contacts: int
    engaged_contacts: int
    personas_missing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reason: str = Field(sa_column=Column(Text, nullable=False))
    as_of: datetime = _time(nullable=False)
    # The account's handoff episode (scoring.account_handoff), written by the handoff, never by the rescore: False
    # from an account task (or a contact's task that covered the buying center) until no account trigger has held
    # for `rearm_after_days`; when it was handed over; the last handoff at which the trigger held; the contact whose
    # task covered it; why the last handoff left it without a task it is due.
    account_armed: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=true()))
    account_handed_over_at: datetime | None = _time()
    account_triggers_held_at: datetime | None = _time()
    account_covered_by: int | None = _id()
    account_waiting: str | None = Field(default=None, sa_column=Column(Text))
    push_pending: bool = _push_pending()


class ScoreHistoryRow(SQLModel, table=True):
    """One row whenever a contact's or company's scores, segment or status change."""

    __tablename__ = "score_history"
    __table_args__ = (Index("ix_score_history_object", "object_type", "object_id", "as_of"),)

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    object_type: str
    object_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    engagement: int
    profile: int
    segment: str = Field(sa_column=Column(String(2), nullable=False))
    status: str | None = None
    as_of: datetime = _time(nullable=False)


class PushedValuesRow(SQLModel, table=True):
    """The hubsync property values last confirmed by HubSpot for one record: the base of the push diff."""

    __tablename__ = "pushed_values"

    object_type: str = Field(primary_key=True)
    object_id: int = _id(primary_key=True)
    values: dict[str, str] = _json()
    pushed_at: datetime | None = _time()


class PushStateRow(SQLModel, table=True):
    """What push keeps besides the values: `config`, what the stored pushed values were written with (property names,
    lifecycle advance; jobs/push.py `written_with`). A change of it makes the next push diff every record."""

    __tablename__ = "push_state"

    name: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime | None = _time()


class PendingRescoreRow(SQLModel, table=True):
    """A contact or company whose score may have changed and is not recomputed yet.

    Written in the transaction that stores the page that touched it; deleted in the transaction that stores its new
    score. A run that dies in between leaves the row, and the next run scores it first. (Push needs no such row: a
    written score row carries `push_pending` until push has diffed it.)"""

    __tablename__ = "pending_rescore"

    # "contacts" or "companies", as HubSpot names the object types.
    object_type: str = Field(primary_key=True)
    object_id: int = _id(primary_key=True)
    marked_at: datetime = _time(nullable=False)


class TaskRow(SQLModel, table=True):
    """A sales task hubsync intends to create or has created, on a contact or (an account task) on a company. The
    intent is written before the API call; its row id is the create's `objectWriteTraceId`."""

    __tablename__ = "task"
    __table_args__ = (
        # At most one open hubsync task per contact, and one open account task per company, enforced by the
        # database, not only by the code.
        Index(
            "ux_task_open_contact",
            "contact_id",
            unique=True,
            sqlite_where=text("state IN ('intent', 'open')"),
            postgresql_where=text("state IN ('intent', 'open')"),
        ),
        Index(
            "ux_task_open_company",
            "company_id",
            unique=True,
            sqlite_where=text("state IN ('intent', 'open')"),
            postgresql_where=text("state IN ('intent', 'open')"),
        ),
    )

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    # A contact's task has `contact_id`, an account task `company_id`; never both.
    contact_id: int | None = _id()
    company_id: int | None = _id()
    owner_id: int | None = _id()
    # intent -> open -> done; or intent -> failed.
    state: str
    hubspot_task_id: str | None = Field(default=None, unique=True)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    intent_at: datetime = _time(nullable=False)
    created_at: datetime | None = _time()
    due_at: datetime | None = _time()
    error: str | None = Field(default=None, sa_column=Column(Text))
    # "lead", "hand_raiser" or "account" (None on rows from before these were recorded).
    kind: str | None = None
    # The exemption that let this task take its owner beyond capacity ("ceiling lead", "hand-raiser"), if any.
    over_capacity: str | None = None
    # Why the contact was handed over, in words ("sales_ready", "segment A1", …), for `hubsync explain`.
    triggers: list[str] | None = Field(default=None, sa_column=Column(JSON))
    # How a "done" task ended: "completed" (with HubSpot's completion date) or "deleted"; None while open, and on
    # rows closed before this was recorded.
    closed_as: str | None = None
    completed_at: datetime | None = _time()


class OpenTaskRow(SQLModel, table=True):
    """An open hubsync task as HubSpot last showed it (any open task whose subject carries the marker, with or without
    a `task` row): what the owners' open-task load is counted from, kept by `jobs/open_tasks.py` from the tasks
    changed since its last read, and replaced by each full read."""

    __tablename__ = "open_task"

    task_id: int = _id(primary_key=True)
    owner_id: int | None = _id()


class ContactOutcomeRow(SQLModel, table=True):
    """What happened to a contact after hubsync scored it (scoring.outcomes.ContactOutcome, docs/scoring.md
    "Outcomes"): lifecycle dates, the rep's lead status, its first handoff and the response, its deals. Derived from
    the tables above by `jobs/outcomes.py`; the calibration report reads only this table and the score history."""

    __tablename__ = "contact_outcome"

    contact_id: int = _id(primary_key=True)
    created_at: datetime | None = _time()
    lead_at: datetime | None = _time()
    mql_at: datetime | None = _time()
    sql_at: datetime | None = _time()
    opportunity_at: datetime | None = _time()
    customer_at: datetime | None = _time()
    lead_status: str | None = None
    scored_from: datetime | None = _time()
    hubsync_mql_at: datetime | None = _time()
    peak_engagement: int | None = None
    peak_segment: str | None = Field(default=None, sa_column=Column(String(2)))
    handed_over_at: datetime | None = _time()
    handoff_owner_id: int | None = _id()
    handoff_kind: str | None = None
    handoff_trigger: str | None = None
    triggered_at: datetime | None = _time()
    task_closed: str | None = None
    task_completed_at: datetime | None = _time()
    first_response_at: datetime | None = _time()
    response_kind: str | None = None
    deals: int = 0
    deal_created_at: datetime | None = _time()
    won_deal_created_at: datetime | None = _time()
    won_at: datetime | None = _time()
    won_amount: float | None = None
    lost_at: datetime | None = _time()
    refreshed_at: datetime = _time(nullable=False)


class RunRow(SQLModel, table=True):
    __tablename__ = "run"

    id: int | None = Field(default=None, sa_column=Column(Integer, primary_key=True, autoincrement=True))
    kind: str
    # Which process ran it ("host:pid:nonce"); with several `hubsync run` on one database, the lease holder.
    holder: str | None = None
    started_at: datetime = _time(nullable=False, index=True)
    finished_at: datetime | None = _time()
    # running, ok, failed, stopped (quota or signal: resumes next run)
    outcome: str
    pulled: int = 0
    scored: int = 0
    pushed: int = 0
    tasks_created: int = 0
    api_calls: int = 0
    daily_quota_left: int | None = None
    # The seller factor at this run's handoff (docs/scoring.md), for `hubsync status`.
    effective_threshold: int | None = None
    free_capacity: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))


class LeaseRow(SQLModel, table=True):
    """One active syncer per portal: the holder renews `expires_at`; a standby takes over once it has passed."""

    __tablename__ = "lease"

    name: str = Field(primary_key=True)
    holder: str
    acquired_at: datetime = _time(nullable=False)
    expires_at: datetime = _time(nullable=False)


class WebhookEventRow(SQLModel, table=True):
    """A HubSpot webhook event, stored before the receiver answers 2xx (so an answered event is never lost) and
    marked processed once what it changed is stored, rescored and pushed. Kept a while after that, so that HubSpot
    delivering it again (same `eventId`) is recognised and not processed twice."""

    __tablename__ = "webhook_event"
    # The queue: unprocessed events, oldest first.
    __table_args__ = (Index("ix_webhook_event_queue", "processed_at", "received_at"),)

    event_id: int = _id(primary_key=True)
    subscription_type: str
    object_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    occurred_at: datetime = _time(nullable=False)
    received_at: datetime = _time(nullable=False)
    attempt_number: int = 0
    portal_id: int | None = _id()
    property_name: str | None = None
    # The event as HubSpot sent it (merge and association details).
    payload: dict[str, Any] = _json()
    processed_at: datetime | None = _time()


def _handle(row: type[SQLModel]) -> Table:
    return row.__table__  # type: ignore[attr-defined, no-any-return]  # SQLModel declares __table__ untyped


# The SQLAlchemy Core handles of the tables above, typed once: every query in store/ starts from one of these.
contact_t: Final = _handle(ContactRow)
company_t: Final = _handle(CompanyRow)
owner_t: Final = _handle(OwnerRow)
deal_t: Final = _handle(DealRow)
association_t: Final = _handle(AssociationRow)
activity_t: Final = _handle(ActivityRow)
engagement_t: Final = _handle(EngagementRow)
cursor_t: Final = _handle(SyncCursorRow)
contact_score_t: Final = _handle(ContactScoreRow)
company_score_t: Final = _handle(CompanyScoreRow)
history_t: Final = _handle(ScoreHistoryRow)
pushed_t: Final = _handle(PushedValuesRow)
push_state_t: Final = _handle(PushStateRow)
pending_t: Final = _handle(PendingRescoreRow)
task_t: Final = _handle(TaskRow)
open_task_t: Final = _handle(OpenTaskRow)
outcome_t: Final = _handle(ContactOutcomeRow)
run_t: Final = _handle(RunRow)
lease_t: Final = _handle(LeaseRow)
webhook_event_t: Final = _handle(WebhookEventRow)
