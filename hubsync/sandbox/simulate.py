"""Time passing in a sandbox portal: the clock moves forward and contacts act, the way the generated history does:
a few buyers walk comparison page → webinar → pricing → demo request, others browse and open newsletters, new
contacts arrive with a first download; optionally the sales team works its tasks at the end of each day
(`sales.py`). Deterministic for a seed. Used by `hubsync demo`, the end-to-end tests and `bench/handoff.py`.

`simulate` runs whole days at once. `Simulation` is the same in steps of any size (`run_until`), for a caller that
syncs in between, e.g. every simulated hour: each activity is written at its own time once the clock has passed it,
and the sales day runs when the clock reaches the end of a simulated day.
"""

from __future__ import annotations

import heapq
import random
import re
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from hubsync.sandbox import schema, vocabulary
from hubsync.sandbox.generator import ascii_name
from hubsync.sandbox.personas import PERSONA_NAMES, PERSONAS
from hubsync.sandbox.sales import SalesBehaviour, SalesDay, sales_day

if TYPE_CHECKING:
    from collections.abc import Callable

    from hubsync.sandbox.portal import Portal

DAY_S = 86_400
DAY_MS = DAY_S * 1000
MINUTE_MS = 60_000
# The steps of a buyer's walk, in the order that earns the sequence bonus.
BUYER_STEPS = ("compare", "webinar", "pricing", "pricing", "demo")


@dataclass(frozen=True, slots=True)
class Simulated:
    days: int
    buyers: tuple[int, ...]
    page_views: int
    form_submissions: int
    email_events: int
    participations: int
    # Contacts created during the simulation, in order.
    arrivals: tuple[int, ...] = ()
    # One entry per simulated day when the sales team was simulated.
    sales: tuple[SalesDay, ...] = ()

    @property
    def activities(self) -> int:
        return self.page_views + self.form_submissions + self.email_events + self.participations

    @property
    def sales_total(self) -> SalesDay:
        return SalesDay.total(self.sales)


def simulate(
    portal: Portal,
    *,
    days: int,
    seed: int,
    buyers: int = 8,
    browsers: float = 0.1,
    arrivals: float = 0.0,
    sales: SalesBehaviour | None = None,
) -> Simulated:
    """Advance the portal `days` days; `buyers` contacts go through the whole buying sequence (spread over the
    days), a share `browsers` of the others reads a page or opens a newsletter each day, `arrivals` new contacts a
    day (on average) arrive with a download, and with `sales` the sales team works at the end of each day."""
    run = Simulation(portal, days=days, seed=seed, buyers=buyers, browsers=browsers, arrivals=arrivals, sales=sales)
    run.run_until(run.end)
    return run.result()


class Simulation:
    """`simulate` in steps. Day d covers (start + d days, start + d + 1 days]; its activities are drawn when the clock
    first moves into it (so the draws are those of `simulate`, whatever the steps), written once the clock has
    passed their time, and the sales day runs at its end."""

    def __init__(
        self,
        portal: Portal,
        *,
        days: int,
        seed: int,
        buyers: int = 8,
        browsers: float = 0.1,
        arrivals: float = 0.0,
        sales: SalesBehaviour | None = None,
    ) -> None:
        self.portal = portal
        self.days = days
        self.browsers = browsers
        self.arrivals = arrivals
        self.sales = sales
        self.rng = random.Random(seed)  # noqa: S311  (simulated behaviour, not security)
        # The sales team draws from its own stream: switching it on changes nothing the contacts do.
        self.sales_rng = random.Random(f"{seed}:sales")  # noqa: S311
        self.site = f"https://www.{portal.vendor}.example"
        rng = self.rng
        with portal.lock:
            store = portal.store(schema.CONTACTS)
            contacts = [cid for cid in store.live if store.by_id[cid].props.get("email")]
            self.demo_form = _form(portal, r"demo|beratung|consultation")
            self.content_form = _form(portal, r"e-book|whitepaper|checkliste|checklist")
            events = portal.marketing_events
            self.webinar = max(events, key=lambda e: e.start).external_id if events else None
            self.companies = list(portal.store(schema.COMPANIES).live)
        chosen = rng.sample(contacts, min(buyers, len(contacts)))
        self.buyers = tuple(chosen)
        self.others = [c for c in contacts if c not in set(chosen)]
        for buyer in chosen:
            portal.intent[buyer] = "buyer"
        self.counts = {"page_views": 0, "form_submissions": 0, "email_events": 0, "participations": 0}
        # Each buyer's steps, on days spread over the period.
        self.plans: dict[int, list[tuple[int, str]]] = {}
        for buyer in chosen:
            start = rng.randrange(max(1, days - len(BUYER_STEPS) + 1))
            self.plans[buyer] = [(min(days - 1, start + i), step) for i, step in enumerate(BUYER_STEPS)]
        self.start = portal.now
        self.end = self.start + days * DAY_MS
        self.planned = 0  # days whose activities are drawn
        self.closed = 0  # days that have ended (and had their sales day)
        self.queue: list[tuple[int, int, Callable[[], None]]] = []
        self.sequence = 0
        self.new_contacts: list[int] = []
        self.sales_days: list[SalesDay] = []

    def run_until(self, until: int) -> None:
        """Move the portal's clock to `until` (ms, at most the simulation's end), acting on the way."""
        until = min(until, self.end)
        while self.closed < self.days and self.portal.now < until:
            if self.planned == self.closed:
                self._plan_day(self.planned)
                self.planned += 1
            day_end = self.start + self.planned * DAY_MS
            step_to = min(until, day_end)
            self.portal.advance(max(0, step_to - self.portal.now) / 1000)
            while self.queue and self.queue[0][0] <= step_to:
                heapq.heappop(self.queue)[2]()
            if step_to == day_end:
                if self.sales is not None:
                    self.sales_days.append(sales_day(self.portal, self.sales_rng, self.sales))
                self.closed += 1

    def result(self) -> Simulated:
        return Simulated(
            days=self.closed,
            buyers=self.buyers,
            arrivals=tuple(self.new_contacts),
            sales=tuple(self.sales_days),
            **self.counts,
        )

    # -- drawing a day ---------------------------------------------------------------------------------------

    def _at(self, at: int, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (at, self.sequence, action))
        self.sequence += 1

    def _plan_day(self, day: int) -> None:
        rng, end = self.rng, self.start + (day + 1) * DAY_MS
        for buyer, plan in self.plans.items():
            for when, step in plan:
                if when == day:
                    at = end - rng.randrange(1, DAY_S) * 1000
                    self._at(at, partial(self._act, buyer, step, at))
        for contact in rng.sample(self.others, int(len(self.others) * self.browsers)):
            at = end - rng.randrange(1, DAY_S) * 1000
            roll = rng.random()
            if roll < 0.6:  # noqa: PLR2004  (share of browsing days spent reading a page)
                page = rng.choice(["/", "/blog/lead-scoring", "/blog/crm-hygiene", "/produkt/funktionen", "/jobs"])
                self._at(at, partial(self._view, contact, self.site + page, at))
            elif roll < 0.9 or self.content_form is None:  # noqa: PLR2004  (… and opening a newsletter)
                self._at(at, partial(self._open, contact, at))
            else:
                self._at(at, partial(self._download, contact, at))
        if self.arrivals > 0:
            count = int(self.arrivals) + (1 if rng.random() < self.arrivals % 1 else 0)
            for _ in range(count):
                self._plan_arrival(day, end)

    def _plan_arrival(self, day: int, end: int) -> None:
        """A new contact: a visit and a download on its first day (sometimes two), a walk later if it buys."""
        rng = self.rng
        at = end - rng.randrange(3600, DAY_S) * 1000
        intent = rng.choices(PERSONA_NAMES, [w for _, w in PERSONAS])[0]
        company = rng.choice(self.companies) if self.companies and rng.random() < 0.75 else None  # noqa: PLR2004
        first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
        title = rng.choice(vocabulary.TITLES)
        personal = rng.choice(vocabulary.PERSONAL_DOMAINS)
        downloads = [at + rng.randrange(2, 10) * MINUTE_MS]
        if rng.random() < 0.4:  # noqa: PLR2004  (a second download the same day: the cold-start surge case)
            downloads.append(min(end, downloads[0] + rng.randrange(10, 50) * MINUTE_MS))
        walk = day + rng.randrange(1, 8) if intent == "buyer" else None

        def arrive() -> None:
            contact = self._create_contact(first, last, title=title, company=company, personal=personal, at=at)
            self.portal.intent[contact] = intent
            self.new_contacts.append(contact)
            self._at(at + MINUTE_MS, partial(self._view, contact, f"{self.site}/ressourcen", at + MINUTE_MS))
            for when in downloads:
                self._at(when, partial(self._download, contact, when))
            self.others.append(contact)
            if walk is not None and walk < self.days:
                self.plans[contact] = [(min(self.days - 1, walk + i), s) for i, s in enumerate(BUYER_STEPS)]

        self._at(at, arrive)

    # -- acting ----------------------------------------------------------------------------------------------

    def _create_contact(
        self, first: str, last: str, *, title: tuple[str, str], company: int | None, personal: str, at: int
    ) -> int:
        p = self.portal
        props = {"firstname": first, "lastname": last, "jobtitle": title[0], "lifecyclestage": "subscriber"}
        domain = personal
        if company is not None:
            record = p.store(schema.COMPANIES).by_id[company]
            domain = record.props.get("domain") or personal
            props.update(company=record.props.get("name", ""), associatedcompanyid=str(company))
            if record.props.get("hubspot_owner_id"):
                props["hubspot_owner_id"] = record.props["hubspot_owner_id"]
        # The id the contact is about to get keeps its address unique in the portal.
        props["email"] = f"{ascii_name(first)}.{ascii_name(last)}.{p.next_id}@{domain}"
        obj = p.create(schema.CONTACTS, {k: v for k, v in props.items() if v}, at=at)
        if company is not None:
            p.associate(schema.CONTACTS, obj.id, schema.COMPANIES, company, primary=True)
        return obj.id

    def _view(self, contact: int, url: str, at: int) -> None:
        if self.portal.store(schema.CONTACTS).get(contact) is not None:
            self.portal.add_page_view(contact, url, at=at)
            self.counts["page_views"] += 1

    def _open(self, contact: int, at: int) -> None:
        record = self.portal.store(schema.CONTACTS).get(contact)
        if record is not None:
            self.portal.add_email_event(record.props["email"], "OPEN", at=at)
            self.counts["email_events"] += 1

    def _download(self, contact: int, at: int) -> None:
        if self.content_form is not None and self.portal.store(schema.CONTACTS).get(contact) is not None:
            self.portal.add_form_submission(contact, self.content_form, page_url=self.site + "/ressourcen", at=at)
            self.counts["form_submissions"] += 1

    def _act(self, contact: int, step: str, at: int) -> None:
        if self.portal.store(schema.CONTACTS).get(contact) is None:
            return
        if step == "compare":
            self._view(contact, f"{self.site}/vergleich/alternativen", at)
        elif step == "pricing":
            self._view(contact, f"{self.site}/preise", at)
        elif step == "webinar" and self.webinar is not None:
            self.portal.add_participation(contact, self.webinar, "ATTENDED", at=at)
            self.counts["participations"] += 1
        elif step == "demo" and self.demo_form is not None:
            self.portal.add_form_submission(contact, self.demo_form, page_url=f"{self.site}/demo", at=at)
            self.counts["form_submissions"] += 1


def _form(portal: Portal, pattern: str) -> str | None:
    found = next((f for f in portal.forms if re.search(pattern, f.name, re.IGNORECASE) and not f.archived), None)
    return found.name if found else None
