"""A simulated sales team: reps work, put off or delete their open tasks, set lead statuses, move contacts through
the lifecycle stages and open deals that are won or lost — following each contact's hidden intent (`Portal.intent`,
the persona the generator played), never hubsync's scores.

`sales_day(portal, rng, behaviour)` is one working day at the portal's clock. Everything it writes is stamped with
that clock, as HubSpot stamps an edit when it is made: an incremental sync that reads modified dates sees it. What it
reads is what a rep sees in the CRM — tasks (status, owner, priority, due date, associations), contacts' lifecycle
stage and lead status, deals, form submissions, owners — plus the hidden intent. It never reads the properties hubsync
writes nor anything hubsync stores, so outcomes cannot echo the model that is measured against them.

* Reps. Each owner has a profile (`RepProfile`: diligent, average or overloaded), drawn once from the portal's seed
  and the owner id: the chance per day to work an open task whose turn has come, how many a day at most, the share
  of tasks left untouched for weeks and the share deleted unworked. A task's delay is so a geometric number of days
  (median about one day for a diligent rep, five for an overloaded one), plus weeks for the ignored ones. Each task's
  fate (worked, ignored until, deleted on) is drawn once from the seed and the task id, so it does not depend on
  when or how often `sales_day` runs. Tasks are worked in HubSpot's order: priority, then due date.
* Working a task: the rep calls the task's contacts (for a task on a company: up to `company_contacts` of the
  company's contacts; on a deal: the deal's). Not reached: a call "NO_ANSWER", lead status ATTEMPTED_TO_CONTACT, the
  task IN_PROGRESS for a second attempt, completed after it. Reached (odds by intent, `IntentOdds`): interested — a
  meeting, IN_PROGRESS, sales-qualified, and perhaps a deal (OPEN_DEAL, opportunity); otherwise a call and
  CONNECTED, BAD_TIMING or UNQUALIFIED. The task is then COMPLETED with `hs_task_completion_date`.
* Lifecycle stages move forward only, each with its `hs_lifecyclestage_<stage>_date` stamped when entered: lead on a
  form submission of the last day or the first sales touch; marketing-qualified when a rep picks up a task (marketing
  handed the contact over); sales-qualified on real interest; opportunity with a deal; customer when it is won.
* Deals: `pipeline=default`, `dealstage` appointmentscheduled → … → contractsent as the expected close date
  (`closedate`, set at creation, a log-normal number of days ahead) nears; then won or lost with the intent's odds,
  or the close date slips. Buyers nobody is working on (no open task, no deal) sometimes call in: inbound deals.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import TYPE_CHECKING

from hubsync.sandbox import catalog, schema
from hubsync.sandbox.crm.parsing import to_ms
from hubsync.sandbox.personas import PERSONA_NAMES, PERSONAS
from hubsync.sandbox.portal import MS_PER_DAY, iso_instant

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import CrmObject

MINUTE = 60_000
# The lifecycle stages in HubSpot's order, the one a stage may only move forward along.
LIFECYCLE_ORDER = catalog.LIFECYCLE
OPEN_DEAL_STAGES = catalog.DEAL_STAGES[:5]
WON, LOST = "closedwon", "closedlost"
COMPLETED = "COMPLETED"
PRIORITY_ORDER = {"HIGH": 0, "MEDIUM": 1, "LOW": 2, "NONE": 3}
LOST_REASONS = ("Kein Budget", "Wettbewerber", "Timing", "Keine Rückmeldung")


@dataclass(frozen=True, slots=True)
class RepProfile:
    name: str
    # Chance per day that the rep works an open task whose turn has come.
    work_chance: float
    # Tasks the rep works at most per day.
    max_per_day: int
    # Share of tasks left untouched for `SalesBehaviour.ignore_days` first.
    ignore_share: float
    # Share of tasks deleted unworked, `SalesBehaviour.delete_days` after they were created.
    delete_share: float


DILIGENT = RepProfile("diligent", work_chance=0.85, max_per_day=30, ignore_share=0.03, delete_share=0.01)
AVERAGE = RepProfile("average", work_chance=0.5, max_per_day=15, ignore_share=0.1, delete_share=0.03)
OVERLOADED = RepProfile("overloaded", work_chance=0.15, max_per_day=5, ignore_share=0.25, delete_share=0.06)


@dataclass(frozen=True, slots=True)
class IntentOdds:
    """What becomes of a contact of one intent when a rep calls."""

    # The rep reaches the contact (else ATTEMPTED_TO_CONTACT).
    reached: float
    # Once reached: real interest (IN_PROGRESS, sales-qualified), a talk without a next step (CONNECTED), not now
    # (BAD_TIMING); the rest is UNQUALIFIED.
    interested: float
    connected: float
    bad_timing: float
    # An interested contact gets a deal; a deal is won.
    deal: float
    win: float
    # Chance per day that such a contact nobody works on calls in and a deal is opened (inbound sales).
    inbound: float = 0.0


DEFAULT_ODDS: Mapping[str, IntentOdds] = MappingProxyType(
    {
        "buyer": IntentOdds(0.75, 0.55, 0.2, 0.15, deal=0.6, win=0.45, inbound=0.002),
        "researcher": IntentOdds(0.55, 0.12, 0.25, 0.25, deal=0.3, win=0.2, inbound=0.0002),
        "newsletter": IntentOdds(0.45, 0.05, 0.2, 0.2, deal=0.2, win=0.15),
        "dormant": IntentOdds(0.3, 0.04, 0.16, 0.3, deal=0.2, win=0.15),
        "unsubscriber": IntentOdds(0.35, 0.02, 0.1, 0.18, deal=0.1, win=0.1),
        # The old record of someone who left: the address bounces, the phone rings at a desk now empty.
        "job_changer": IntentOdds(0.05, 0.0, 0.1, 0.1, deal=0.0, win=0.0),
    }
)


@dataclass(frozen=True, slots=True)
class SalesBehaviour:
    """How the simulated sales team works; the defaults are a mid-sized B2B team, tuned to no model's figures."""

    # Rep profiles and how often each is drawn.
    profiles: tuple[tuple[RepProfile, float], ...] = ((DILIGENT, 3.0), (AVERAGE, 5.0), (OVERLOADED, 2.0))
    odds: Mapping[str, IntentOdds] = field(default_factory=lambda: DEFAULT_ODDS)
    # An ignored task waits this many days (inclusive range) before its rep looks at it …
    ignore_days: tuple[int, int] = (14, 42)
    # … a deleted one is deleted this many days after it was created.
    delete_days: tuple[int, int] = (3, 28)
    # Contacts a rep calls for a task on a company.
    company_contacts: int = 2
    # Days from a deal's creation to its expected close date: log-normal with this median and sigma, clamped.
    deal_days_median: float = 35.0
    deal_days_sigma: float = 0.5
    deal_days_range: tuple[int, int] = (7, 150)
    # When the close date comes, the chance that it slips by `slip_days` instead of the deal closing.
    slip: float = 0.2
    slip_days: tuple[int, int] = (7, 30)


@dataclass(frozen=True, slots=True)
class SalesDay:
    """What one simulated sales day did."""

    tasks_worked: int = 0
    tasks_completed: int = 0
    tasks_deleted: int = 0
    calls: int = 0
    meetings: int = 0
    attempted: int = 0
    connected: int = 0
    in_progress: int = 0
    bad_timing: int = 0
    unqualified: int = 0
    lifecycle_moves: int = 0
    deals_created: int = 0
    deals_inbound: int = 0
    deals_won: int = 0
    deals_lost: int = 0

    def __add__(self, other: SalesDay) -> SalesDay:
        return SalesDay(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    @classmethod
    def total(cls, days: Sequence[SalesDay]) -> SalesDay:
        out = cls()
        for day in days:
            out += day
        return out


def intent_of(portal: Portal, contact_id: int) -> str:
    """The contact's hidden intent; a contact created after the generator (through the API, by a test) is given one,
    drawn from the personas' shares with the portal's seed and its id, and keeps it."""
    found = portal.intent.get(contact_id)
    if found is None:
        found = _stable(portal, "intent", contact_id).choices(PERSONA_NAMES, [w for _, w in PERSONAS])[0]
        portal.intent[contact_id] = found
    return found


def rep_profile(portal: Portal, owner_id: int, behaviour: SalesBehaviour) -> RepProfile:
    """The owner's profile: the same for the same portal seed and owner, whenever asked."""
    weights = [weight for _, weight in behaviour.profiles]
    return _stable(portal, "rep", owner_id).choices([p for p, _ in behaviour.profiles], weights)[0]


def sales_day(portal: Portal, rng: random.Random, behaviour: SalesBehaviour | None = None) -> SalesDay:
    """One working day of the sales team at the portal's clock (see the module's docstring)."""
    day = _Day(portal, rng, behaviour or SalesBehaviour())
    with portal.lock:
        day.conversions()
        day.work_tasks()
        day.inbound()
        day.deals()
    return SalesDay(**day.tally)


def _stable(portal: Portal, *parts: object) -> random.Random:
    # A string seed is hashed with SHA-512, not Python's per-process hash: the same draw in every process.
    return random.Random(":".join(str(p) for p in (portal.seed or 0, *parts)))  # noqa: S311  (simulation)


@dataclass(frozen=True, slots=True)
class _Fate:
    ready_at: int | None  # None: never worked (deleted)
    delete_at: int | None


class _Day:
    def __init__(self, portal: Portal, rng: random.Random, behaviour: SalesBehaviour) -> None:
        self.portal = portal
        self.rng = rng
        self.behaviour = behaviour
        self.now = portal.now
        self.tally = {f.name: 0 for f in fields(SalesDay)}

    # -- reading ---------------------------------------------------------------------------------------------

    def live(self, object_type: str, object_id: int) -> CrmObject | None:
        if object_type == schema.CONTACTS:
            object_id = self.portal.resolve_contact(object_id)
        return self.portal.stores[object_type].get(object_id)

    def linked(self, from_type: str, from_id: int, to_type: str) -> list[int]:
        """Ids of the live records of `to_type` linked to a record, sorted, merged contacts resolved."""
        ids = {
            obj.id
            for other in self.portal.assoc.of(from_type, from_id, to_type)
            if (obj := self.live(to_type, other)) is not None
        }
        return sorted(ids)

    def company_of(self, contact_id: int) -> int | None:
        primary = self.portal.assoc.primary[(schema.CONTACTS, schema.COMPANIES)].get(contact_id)
        if primary is not None and self.live(schema.COMPANIES, primary) is not None:
            return primary
        companies = self.linked(schema.CONTACTS, contact_id, schema.COMPANIES)
        return companies[0] if companies else None

    def open_deal(self, contact_id: int) -> bool:
        return any(
            self.portal.stores[schema.DEALS].by_id[d].props.get("dealstage") not in (WON, LOST)
            for d in self.linked(schema.CONTACTS, contact_id, schema.DEALS)
        )

    def has_open_task(self, contact_id: int) -> bool:
        return any(
            self.portal.stores[schema.TASKS].by_id[t].props.get("hs_task_status") != COMPLETED
            for t in self.linked(schema.CONTACTS, contact_id, schema.TASKS)
        )

    def fate(self, task: CrmObject, profile: RepProfile) -> _Fate:
        r = _stable(self.portal, "task", task.id)
        roll = r.random()
        ignore = r.randint(*self.behaviour.ignore_days) * MS_PER_DAY
        delete = r.randint(*self.behaviour.delete_days) * MS_PER_DAY
        if roll < profile.delete_share:
            return _Fate(None, task.created + delete)
        if roll < profile.delete_share + profile.ignore_share:
            return _Fate(task.created + ignore, None)
        return _Fate(task.created, None)

    # -- writing ---------------------------------------------------------------------------------------------

    def advance(self, object_type: str, obj: CrmObject, *stages: str) -> None:
        """Move a contact or company forward through `stages`, stamping each stage it enters."""
        for stage in stages:
            current = obj.props.get("lifecyclestage", "")
            rank = LIFECYCLE_ORDER.index(current) if current in LIFECYCLE_ORDER else -1
            if LIFECYCLE_ORDER.index(stage) > rank:
                self.portal.update(
                    object_type,
                    obj.id,
                    {"lifecyclestage": stage, f"hs_lifecyclestage_{stage}_date": iso_instant(self.now)},
                )
                self.tally["lifecycle_moves"] += 1

    def lead_status(self, contact: CrmObject, status: str) -> None:
        if contact.props.get("hs_lead_status") != status:
            self.portal.update(schema.CONTACTS, contact.id, {"hs_lead_status": status})

    def engagement(self, kind: str, owner: str, contact_id: int, since: int, props: dict[str, str]) -> None:
        """A call or meeting the rep logs now, dated a little earlier (never before the task that asked for it)."""
        at = max(since, self.now - self.rng.randrange(5, 120) * MINUTE)
        links: list[tuple[str, int]] = [(schema.CONTACTS, contact_id)]
        company = self.company_of(contact_id)
        if company is not None and (kind, schema.COMPANIES) in schema.ASSOCIATION_TYPES:
            links.append((schema.COMPANIES, company))
        self.portal.create(
            kind, {"hs_timestamp": iso_instant(at), "hubspot_owner_id": owner, **props}, associations=links
        )
        self.tally["calls" if kind == schema.CALLS else "meetings"] += 1

    def call(self, owner: str, contact_id: int, since: int, *, status: str, inbound: bool = False) -> None:
        props = {
            "hs_call_direction": "INBOUND" if inbound else "OUTBOUND",
            "hs_call_title": "Anruf" if inbound else "Nachfassen",
            "hs_call_status": status,
        }
        if status == COMPLETED:
            props["hs_call_duration"] = str(self.rng.randrange(60, 1800) * 1000)
        self.engagement(schema.CALLS, owner, contact_id, since, props)

    def open_new_deal(self, owner: str, contact: CrmObject) -> None:
        b, rng = self.behaviour, self.rng
        company_id = self.company_of(contact.id)
        company = self.portal.stores[schema.COMPANIES].by_id[company_id] if company_id is not None else None
        lo, hi = b.deal_days_range
        days = min(hi, max(lo, round(rng.lognormvariate(math.log(b.deal_days_median), b.deal_days_sigma))))
        size = _employees(company.props.get("numberofemployees", "")) if company is not None else 5
        name = company.props.get("name") if company is not None else contact.props.get("lastname", str(contact.id))
        props = {
            "dealname": f"{name} – Lead Scoring",
            "amount": str(rng.randrange(6, 60) * 1000 * (1 + min(size, 5000) // 500)),
            "dealstage": OPEN_DEAL_STAGES[0],
            "pipeline": "default",
            "closedate": iso_instant(self.now + days * MS_PER_DAY),
            "hubspot_owner_id": owner,
        }
        deal = self.portal.create(schema.DEALS, props, associations=[(schema.CONTACTS, contact.id)])
        if company is not None:
            self.portal.associate(schema.DEALS, deal.id, schema.COMPANIES, company.id, primary=True)
            self.advance(schema.COMPANIES, company, "opportunity")
        self.advance(schema.CONTACTS, contact, "opportunity")
        self.lead_status(contact, "OPEN_DEAL")
        self.tally["deals_created"] += 1

    # -- the day ---------------------------------------------------------------------------------------------

    def conversions(self) -> None:
        """A form submitted within the last day makes a subscriber a lead (HubSpot's default for form contacts)."""
        log = self.portal.form_submissions
        contacts = log.col("contact")
        for i in log.between(self.now - MS_PER_DAY + 1, self.now):
            contact = self.live(schema.CONTACTS, contacts[i])
            if contact is not None:
                self.advance(schema.CONTACTS, contact, "lead")

    def work_tasks(self) -> None:
        tasks = self.portal.stores[schema.TASKS]
        by_owner: dict[str, list[CrmObject]] = {}
        for task_id in tasks.live:
            task = tasks.by_id[task_id]
            owner_id = task.props.get("hubspot_owner_id")
            if owner_id and task.props.get("hs_task_status") != COMPLETED:
                by_owner.setdefault(owner_id, []).append(task)
        for owner in sorted(self.portal.owners, key=lambda o: o.id):
            if not owner.archived:
                self.rep_day(owner.id, by_owner.get(str(owner.id), []))

    def rep_day(self, owner_id: int, open_tasks: list[CrmObject]) -> None:
        """One rep's day: delete what is due for deletion, then work the tasks whose turn has come, in order."""
        profile = rep_profile(self.portal, owner_id, self.behaviour)
        ready = []
        for task in open_tasks:
            fate = self.fate(task, profile)
            if fate.delete_at is not None and self.now >= fate.delete_at:
                self.portal.archive(schema.TASKS, task.id)
                self.tally["tasks_deleted"] += 1
            elif fate.ready_at is not None and self.now >= fate.ready_at:
                ready.append(task)
        ready.sort(key=_work_order)
        worked = 0
        for task in ready:
            if worked >= profile.max_per_day:
                break
            if self.rng.random() < profile.work_chance:
                worked += 1
                self.work(task, str(owner_id))

    def targets(self, task: CrmObject) -> list[int]:
        """Whom the rep calls for a task: its contacts; else some of its company's or its deal's."""
        contacts = self.linked(schema.TASKS, task.id, schema.CONTACTS)
        if contacts:
            return contacts
        pool: list[int] = []
        for company in self.linked(schema.TASKS, task.id, schema.COMPANIES):
            pool += self.linked(schema.COMPANIES, company, schema.CONTACTS)
        for deal in self.linked(schema.TASKS, task.id, schema.DEALS):
            pool += self.linked(schema.DEALS, deal, schema.CONTACTS)
        pool = sorted(set(pool))
        return sorted(self.rng.sample(pool, min(len(pool), self.behaviour.company_contacts)))

    def work(self, task: CrmObject, owner: str) -> None:
        self.tally["tasks_worked"] += 1
        targets = self.targets(task)
        reached = False
        for contact_id in targets:
            reached = self.reach(owner, contact_id, since=task.created) or reached
        first_try = task.props.get("hs_task_status") in (None, "NOT_STARTED", "WAITING", "DEFERRED")
        if targets and not reached and first_try:
            # Nobody answered: one more try on another day before the rep gives up.
            self.portal.update(schema.TASKS, task.id, {"hs_task_status": "IN_PROGRESS"})
            return
        self.portal.update(
            schema.TASKS, task.id, {"hs_task_status": COMPLETED, "hs_task_completion_date": iso_instant(self.now)}
        )
        self.tally["tasks_completed"] += 1

    def reach(self, owner: str, contact_id: int, *, since: int) -> bool:
        """One call (or meeting) with a contact; True when the rep reached them."""
        rng, contact = self.rng, self.portal.stores[schema.CONTACTS].by_id[contact_id]
        odds = self.behaviour.odds[intent_of(self.portal, contact_id)]
        self.advance(schema.CONTACTS, contact, "lead", "marketingqualifiedlead")
        if rng.random() >= odds.reached:
            self.call(owner, contact_id, since, status="NO_ANSWER")
            if contact.props.get("hs_lead_status") not in ("IN_PROGRESS", "OPEN_DEAL"):
                self.lead_status(contact, "ATTEMPTED_TO_CONTACT")
            self.tally["attempted"] += 1
            return False
        roll = rng.random()
        if roll < odds.interested:
            self.engagement(
                schema.MEETINGS,
                owner,
                contact_id,
                since,
                {
                    "hs_meeting_title": "Erstgespräch",
                    "hs_meeting_outcome": COMPLETED,
                    "hs_meeting_start_time": iso_instant(self.now - 60 * MINUTE),
                    "hs_meeting_end_time": iso_instant(self.now - 15 * MINUTE),
                },
            )
            self.advance(schema.CONTACTS, contact, "salesqualifiedlead")
            self.tally["in_progress"] += 1
            if self.open_deal(contact_id):
                self.lead_status(contact, "OPEN_DEAL")
            elif rng.random() < odds.deal:
                self.open_new_deal(owner, contact)
            else:
                self.lead_status(contact, "IN_PROGRESS")
            return True
        self.call(owner, contact_id, since, status=COMPLETED)
        if roll < odds.interested + odds.connected:
            status, counter = "CONNECTED", "connected"
        elif roll < odds.interested + odds.connected + odds.bad_timing:
            status, counter = "BAD_TIMING", "bad_timing"
        else:
            status, counter = "UNQUALIFIED", "unqualified"
        self.lead_status(contact, status)
        self.tally[counter] += 1
        return True

    def inbound(self) -> None:
        """Contacts nobody works on (no open task, no deal) who call sales themselves, by their intent's odds."""
        active = [o for o in sorted(self.portal.owners, key=lambda o: o.id) if not o.archived]
        if not active:
            return
        contacts = self.portal.stores[schema.CONTACTS]
        for contact_id in list(contacts.live):
            chance = self.behaviour.odds[intent_of(self.portal, contact_id)].inbound
            if chance <= 0 or self.linked(schema.CONTACTS, contact_id, schema.DEALS) or self.has_open_task(contact_id):
                continue
            if self.rng.random() >= chance:
                continue
            contact = contacts.by_id[contact_id]
            company_id = self.company_of(contact_id)
            owner = contact.props.get("hubspot_owner_id") or (
                self.portal.stores[schema.COMPANIES].by_id[company_id].props.get("hubspot_owner_id")
                if company_id is not None
                else None
            )
            owner = owner or str(self.rng.choice(active).id)
            self.call(owner, contact_id, self.now, status=COMPLETED, inbound=True)
            self.advance(schema.CONTACTS, contact, "lead", "salesqualifiedlead")
            self.open_new_deal(owner, contact)
            self.tally["deals_inbound"] += 1

    def deals(self) -> None:
        """Open deals move toward their close date; on it they are won, lost, or slip."""
        b, rng, deals = self.behaviour, self.rng, self.portal.stores[schema.DEALS]
        for deal_id in list(deals.live):
            deal = deals.by_id[deal_id]
            stage = deal.props.get("dealstage", "")
            if stage not in OPEN_DEAL_STAGES:
                continue
            close = to_ms(deal.props.get("closedate", "")) or deal.created + 30 * MS_PER_DAY
            if self.now < close:
                share = (self.now - deal.created) / max(1, close - deal.created)
                due = OPEN_DEAL_STAGES[min(len(OPEN_DEAL_STAGES) - 1, int(share * len(OPEN_DEAL_STAGES)))]
                if OPEN_DEAL_STAGES.index(due) > OPEN_DEAL_STAGES.index(stage):
                    self.portal.update(schema.DEALS, deal_id, {"dealstage": due})
                continue
            if rng.random() < b.slip:
                self.portal.update(
                    schema.DEALS, deal_id, {"closedate": iso_instant(close + rng.randint(*b.slip_days) * MS_PER_DAY)}
                )
                continue
            contacts = self.linked(schema.DEALS, deal_id, schema.CONTACTS)
            intent = intent_of(self.portal, contacts[0]) if contacts else "researcher"
            if rng.random() < b.odds[intent].win:
                self.portal.update(schema.DEALS, deal_id, {"dealstage": WON, "closedate": iso_instant(self.now)})
                for contact_id in contacts:
                    self.advance(schema.CONTACTS, self.portal.stores[schema.CONTACTS].by_id[contact_id], "customer")
                for company_id in self.linked(schema.DEALS, deal_id, schema.COMPANIES):
                    self.advance(schema.COMPANIES, self.portal.stores[schema.COMPANIES].by_id[company_id], "customer")
                self.tally["deals_won"] += 1
            else:
                props = {
                    "dealstage": LOST,
                    "closedate": iso_instant(self.now),
                    "closed_lost_reason": rng.choice(LOST_REASONS),
                }
                self.portal.update(schema.DEALS, deal_id, props)
                self.tally["deals_lost"] += 1


def _work_order(task: CrmObject) -> tuple[int, int, int]:
    """HubSpot's task queue order: priority, then due date, then age."""
    due = to_ms(task.props.get("hs_timestamp", "")) or task.created
    return PRIORITY_ORDER.get(task.props.get("hs_task_priority", "NONE"), 3), due, task.id


def _employees(value: str) -> int:
    """The first number in a messy employee count ("1,000", "50-100"), 5 when there is none."""
    digits = ""
    for char in value:
        if char.isdigit():
            digits += char
        elif char in ",." and digits:
            continue
        elif digits:
            break
    return int(digits) if digits else 5
