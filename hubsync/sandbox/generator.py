"""A seeded, realistic portal: companies, buying centers, owners, deals and years of activity by personas.

The same seed gives the same portal (and the same snapshot, byte for byte): every draw comes from one
`random.Random(seed)` in a fixed order and nothing iterates a set or reads the wall clock.

Personas and what they leave behind:

* researcher: blog and product pages, content downloads (e-book, whitepaper, checklist), newsletter opens,
  sometimes a webinar registration that ends as a no-show and a recording request;
* buyer: comparison page → webinar (registered, attended) → pricing (several times) → demo or consultation
  request, then sales emails, calls and a meeting, and a deal whose outcome follows fit and behaviour;
* newsletter reader: opens and clicks of marketing emails, a few page views;
* dormant: a burst of activity more than a year ago, nothing since;
* unsubscriber: opens, then an unsubscribe (sometimes a spam report);
* job changer: activity at the old employer, a hard bounce on the old address, a new contact at a new company.
"""

# The shares and probabilities below are the generative model itself; naming each one would hide it.
# ruff: noqa: PLR2004

from __future__ import annotations

import gc
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, datetime

from hubsync.sandbox import schema, vocabulary
from hubsync.sandbox.portal import (
    BOUNCE_CATEGORIES,
    EMAIL_EVENT_TYPES,
    MS_PER_DAY,
    PARTICIPATION_STATES,
    Campaign,
    CrmObject,
    Form,
    MarketingEvent,
    Owner,
    Portal,
)

# The generated portal's "now": a fixed instant, so that a seed alone decides the portal.
DEFAULT_NOW = int(datetime(2025, 6, 2, 6, 0, tzinfo=UTC).timestamp() * 1000)
HISTORY_DAYS = 3 * 365
MINUTE = 60_000
HOUR = 3_600_000

PERSONAS: tuple[tuple[str, int], ...] = (
    ("researcher", 28),
    ("buyer", 10),
    ("newsletter", 20),
    ("dormant", 27),
    ("unsubscriber", 8),
    ("job_changer", 7),
)

_OPEN, _CLICK, _BOUNCE, _STATUS, _SPAM = (
    EMAIL_EVENT_TYPES.index(t) for t in ("OPEN", "CLICK", "BOUNCE", "STATUSCHANGE", "SPAMREPORT")
)
_HARD, _SOFT = (BOUNCE_CATEGORIES.index(c) for c in ("HARD_BOUNCE", "SOFT_BOUNCE"))
_REGISTERED, _ATTENDED, _NO_SHOW, _CANCELLED = range(len(PARTICIPATION_STATES))


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    contacts: int = 2000
    seed: int = 7
    activities_per_contact: float = 20.0
    vendor: str = "leadwerk"
    now: int = DEFAULT_NOW


@dataclass(slots=True, eq=False)
class _Company:
    obj: CrmObject
    domain: str
    employees: int
    fit: float
    owner: int


@dataclass(slots=True, eq=False)
class _Person:
    obj: CrmObject
    company: _Company | None
    role: str
    email: str


def generate_portal(
    contacts: int = 2000,
    seed: int = 7,
    *,
    activities_per_contact: float = 20.0,
    vendor: str = "leadwerk",
    now: int = DEFAULT_NOW,
) -> Portal:
    config = GeneratorConfig(contacts, seed, activities_per_contact, vendor, now)
    # Millions of small tuples and no cycles among them: the cyclic collector would rescan them again and again.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _Builder(config).build()
    finally:
        if was_enabled:
            gc.enable()


class _Builder:
    def __init__(self, config: GeneratorConfig) -> None:
        self.cfg = config
        self.rng = random.Random(config.seed)  # noqa: S311  # seeded on purpose: same seed, same portal
        self.portal = Portal(now=config.now, vendor=config.vendor, seed=config.seed)
        self.start = config.now - HISTORY_DAYS * MS_PER_DAY
        self.site = f"https://www.{config.vendor}.example"
        strings = self.portal.strings
        self.url_home = strings.id(self.site + vocabulary.HOME)
        self.url_compare = [strings.id(self.site + p) for p in vocabulary.COMPARISON_PAGES]
        self.url_case = [strings.id(self.site + p) for p in vocabulary.CASE_STUDY_PAGES]
        self.url_pricing = [strings.id(self.site + p) for p in vocabulary.PRICING_PAGES]
        self.url_content = [strings.id(self.site + p) for p in vocabulary.CONTENT_PAGES]
        self.url_jobs = [strings.id(self.site + p) for p in vocabulary.JOB_PAGES]
        self.views: list[tuple[int, ...]] = []
        self.emails: list[tuple[int, ...]] = []
        self.submissions: list[tuple[int, ...]] = []
        self.participations: list[tuple[int, ...]] = []
        self.people: list[_Person] = []
        self.campaign_sent: list[int] = []
        self.event_starts: list[int] = []
        self.companies: list[_Company] = []
        # Scale per-persona activity counts so the portal holds about `activities_per_contact` per contact.
        self.scale = config.activities_per_contact / 20.0

    # ---- orchestration -----------------------------------------------------------------------------------

    def build(self) -> Portal:
        self._owners()
        self._marketing_assets()
        self.campaign_sent = [c.sent for c in self.portal.campaigns]
        self.event_starts = [e.start for e in self.portal.marketing_events]
        self._companies()
        self._contacts()
        for person in list(self.people):
            self._activity(person)
        self._open_tasks()
        self._bulk_import_dates()
        self._merges_and_archives()
        p = self.portal
        p.page_views.load(self.views)
        p.email_events.load(self.emails)
        p.form_submissions.load(self.submissions)
        p.participations.load(self.participations)
        return p

    # ---- static parts ------------------------------------------------------------------------------------

    def _owners(self) -> None:
        rng = self.rng
        count = min(40, max(4, self.cfg.contacts // 2500))
        for i in range(count):
            first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
            created = self.start - rng.randrange(30, 400) * MS_PER_DAY
            email = f"{_ascii(first)}.{_ascii(last)}.{i}@{self.cfg.vendor}.example"
            self.portal.owners.append(
                Owner(
                    70_000_000 + i * 7919,
                    4_100_000 + i,
                    email,
                    first,
                    last,
                    created,
                    created,
                    team=("Vertrieb DACH", "Inside Sales", "Enterprise Sales")[i % 3],
                )
            )

    def _marketing_assets(self) -> None:
        rng, p = self.rng, self.portal
        for name, _kind, _page in vocabulary.FORMS:
            created = self.start - rng.randrange(1, 90) * MS_PER_DAY
            p.forms.append(Form(_uuid(rng), name, created, created))
        week = 7 * MS_PER_DAY
        sent = self.start + 2 * MS_PER_DAY + 9 * HOUR
        number = 0
        while sent < self.cfg.now - MS_PER_DAY:
            number += 1
            topic = vocabulary.WEBINAR_TOPICS[number % len(vocabulary.WEBINAR_TOPICS)]
            subject = vocabulary.NEWSLETTER_SUBJECTS[number % len(vocabulary.NEWSLETTER_SUBJECTS)].format(topic=topic)
            day = datetime.fromtimestamp(sent / 1000, UTC)
            p.campaigns.append(Campaign(310_000_000 + number, f"Newsletter KW {day:%V/%Y}", subject, sent))
            sent += week
        month = 0
        start = self.start + 20 * MS_PER_DAY + 15 * HOUR
        while start < self.cfg.now + 30 * MS_PER_DAY:
            month += 1
            topic = vocabulary.WEBINAR_TOPICS[month % len(vocabulary.WEBINAR_TOPICS)]
            created = start - 30 * MS_PER_DAY
            day = datetime.fromtimestamp(start / 1000, UTC)
            p.marketing_events.append(
                MarketingEvent(
                    id=p.take_id(),
                    external_id=f"webinar-{day:%Y-%m}",
                    name=f"Webinar: {topic}",
                    start=start,
                    end=start + HOUR,
                    created=created,
                    updated=start + 2 * HOUR if start < self.cfg.now else created,
                    organizer=self.cfg.vendor,
                )
            )
            start += 30 * MS_PER_DAY

    # ---- companies and people ----------------------------------------------------------------------------

    def _companies(self) -> None:
        rng = self.rng
        count = max(3, self.cfg.contacts // 8)
        country_weights = [w for _, w, _ in vocabulary.COUNTRIES]
        for i in range(count):
            stem, kind = rng.choice(vocabulary.COMPANY_STEMS), rng.choice(vocabulary.COMPANY_KINDS)
            name = f"{stem} {kind} {rng.choice(vocabulary.LEGAL_FORMS)}"
            domain = f"{_ascii(stem)}-{_ascii(kind)}-{i}.example"
            employees = int(rng.lognormvariate(4.2, 1.5)) + 1
            industry = rng.choice(schema.INDUSTRIES) if rng.random() > 0.12 else ""
            country, _, cities = rng.choices(vocabulary.COUNTRIES, country_weights)[0]
            owner = rng.choice(self.portal.owners).id
            created = self.start + int(rng.random() * (HISTORY_DAYS - 30) * MS_PER_DAY)
            props = {
                "name": name,
                "domain": domain,
                "industry": industry,
                "numberofemployees": _messy_size(rng, employees),
                "country": country,
                "city": rng.choice(cities),
                "hubspot_owner_id": str(owner),
                "lifecyclestage": "lead",
            }
            if rng.random() < 0.5:
                props["annualrevenue"] = str(employees * rng.randrange(80_000, 250_000, 1000))
            obj = self.portal.create(schema.COMPANIES, {k: v for k, v in props.items() if v}, at=created)
            fit = (0.5 if employees > 50 else 0.0) + (0.3 if industry in vocabulary.TARGET_INDUSTRIES else 0.0)
            self.companies.append(_Company(obj, domain, employees, fit, owner))

    def _contacts(self) -> None:
        rng, total = self.rng, self.cfg.contacts
        independents = total // 8
        while len(self.people) < total - independents:
            company = rng.choice(self.companies)
            for _ in range(min(total - independents - len(self.people), 1 + int(rng.random() * 6))):
                self._person(company, rng.choice(vocabulary.TITLES))
        for _ in range(independents):
            title = rng.choice(vocabulary.TITLES[-8:])  # private people and students seldom have a C-level title
            self._person(None, title)

    def _person(self, company: _Company | None, title: tuple[str, str], *, at: int | None = None) -> _Person:
        rng = self.rng
        first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
        job, role = title
        local = f"{_ascii(first)}.{_ascii(last)}"
        if company is not None and rng.random() > 0.06:
            domain = company.domain
        elif role == "student":
            domain = rng.choice(vocabulary.STUDENT_DOMAINS)
        else:
            domain = rng.choice(vocabulary.PERSONAL_DOMAINS)
        email = f"{local}{len(self.people)}@{domain}"
        created = at if at is not None else self.start + int(rng.random() * (HISTORY_DAYS - 20) * MS_PER_DAY)
        if company is not None:
            created = max(created, company.obj.created)
        props = {"email": email, "firstname": first, "lastname": last, "lifecyclestage": "subscriber"}
        if job:
            props["jobtitle"] = job
        if company is not None:
            props["company"] = company.obj.props["name"]
            props["hubspot_owner_id"] = str(company.owner)
            props["associatedcompanyid"] = str(company.obj.id)
            props["country"] = company.obj.props.get("country", "")
        elif rng.random() < 0.3:
            props["hubspot_owner_id"] = str(rng.choice(self.portal.owners).id)
        if rng.random() < 0.4:
            props["phone"] = f"+49 {rng.randrange(30, 999)} {rng.randrange(100000, 9999999)}"
        obj = self.portal.create(schema.CONTACTS, {k: v for k, v in props.items() if v}, at=created)
        if company is not None:
            self.portal.assoc.add(schema.CONTACTS, obj.id, schema.COMPANIES, company.obj.id, primary=True)
        person = _Person(obj, company, role, email)
        self.people.append(person)
        return person

    # ---- activity ----------------------------------------------------------------------------------------

    def _activity(self, person: _Person) -> None:
        rng = self.rng
        persona = rng.choices([p for p, _ in PERSONAS], [w for _, w in PERSONAS])[0]
        if person.role == "student" and persona == "buyer":
            persona = "researcher"
        begin = person.obj.created
        end = self.cfg.now
        if persona == "dormant":
            end = min(end, max(begin + 30 * MS_PER_DAY, self.cfg.now - 400 * MS_PER_DAY))
        last = begin
        last = max(last, self._sessions(person, begin, end, self._count(persona, "views")))
        last = max(last, self._newsletter(person, begin, end, self._count(persona, "emails")))
        if persona in ("researcher", "dormant", "buyer") and rng.random() < 0.7:
            last = max(last, self._downloads(person, begin, end))
        if persona == "researcher" and rng.random() < 0.3:
            last = max(last, self._webinar(person, begin, end, attend=rng.random() < 0.5))
        if persona == "buyer":
            last = max(last, self._journey(person, begin))
        elif persona == "unsubscriber":
            last = max(last, self._unsubscribe(person, begin, end))
        elif persona == "job_changer":
            last = max(last, self._job_change(person, begin))
        if rng.random() < 0.01:
            self.emails.append(
                (
                    begin + int(rng.random() * (end - begin)),
                    self._id(),
                    self._s(person.email),
                    _BOUNCE,
                    self._campaign_at(begin),
                    -1,
                    _SOFT,
                )
            )
        person.obj.updated = min(self.cfg.now, max(person.obj.updated, last + rng.randrange(1, 60) * MINUTE))

    def _count(self, persona: str, kind: str) -> int:
        base = {
            "researcher": (15, 6),
            "buyer": (12, 6),
            "newsletter": (3, 15),
            "dormant": (6, 3),
            "unsubscriber": (3, 5),
            "job_changer": (8, 6),
        }[persona][0 if kind == "views" else 1]
        return int(base * self.scale * (0.4 + 1.2 * self.rng.random()))

    def _id(self) -> int:
        return self.portal.take_id()

    def _s(self, value: str) -> int:
        return self.portal.strings.id(value)

    def _sessions(self, person: _Person, begin: int, end: int, count: int) -> int:
        """Page views in sessions of a few pages a minute or two apart."""
        rng, rand, views, contact = self.rng, self.rng.random, self.views, person.obj.id
        span = max(1, end - begin)
        content, jobs = self.url_content, self.url_jobs
        student = person.role == "student"
        last = begin
        left = count
        while left > 0:
            ts = begin + int(rand() * span)
            for _ in range(min(left, 1 + int(rand() * 4))):
                r = rand()
                if r < 0.15:
                    url = self.url_home
                elif student and r < 0.4:
                    url = jobs[int(rand() * len(jobs))]
                elif r < 0.2:
                    url = self.url_case[int(rand() * len(self.url_case))]
                else:
                    url = content[int(rand() * len(content))]
                views.append((ts, self._id(), contact, url))
                ts += int(20_000 + rand() * 150_000)
                left -= 1
            last = max(last, ts)
        del rng
        return last

    def _campaign_at(self, ts: int) -> int:
        campaigns = self.portal.campaigns
        i = min(len(campaigns) - 1, bisect_left(self.campaign_sent, ts))
        return campaigns[i].id

    def _newsletter(self, person: _Person, begin: int, end: int, count: int) -> int:
        rand, emails = self.rng.random, self.emails
        campaigns = self.portal.campaigns
        sent = self.campaign_sent
        lo, hi = bisect_left(sent, begin), bisect_left(sent, end)
        if hi <= lo or count <= 0:
            return begin
        recipient = self._s(person.email)
        last = begin
        for _ in range(count):
            campaign = campaigns[lo + int(rand() * (hi - lo))]
            ts = campaign.sent + int(rand() * 48 * HOUR)
            emails.append((ts, self._id(), recipient, _OPEN, campaign.id, -1, -1))
            if rand() < 0.3:
                page = self.url_content[int(rand() * len(self.url_content))]
                click_url = self._s(self.portal.strings[page] + "?utm_source=hs_email&utm_medium=email")
                emails.append((ts + int(rand() * 600_000), self._id(), recipient, _CLICK, campaign.id, click_url, -1))
            last = max(last, ts)
        return last

    def _submit(self, person: _Person, form_index: int, ts: int) -> None:
        page = self._s(self.site + vocabulary.FORMS[form_index][2])
        self.submissions.append((ts, self._id(), form_index, person.obj.id, self._s(person.email), page))
        self.views.append((ts - 40_000, self._id(), person.obj.id, page))

    def _downloads(self, person: _Person, begin: int, end: int) -> int:
        rng = self.rng
        content_forms = [i for i, (_, kind, _) in enumerate(vocabulary.FORMS) if kind in ("content", "case_study")]
        last = begin
        for _ in range(1 + int(rng.random() * 2.5)):
            ts = begin + int(rng.random() * max(1, end - begin))
            self._submit(person, rng.choice(content_forms), ts)
            last = max(last, ts)
        return last

    def _event_after(self, ts: int) -> int | None:
        events = self.portal.marketing_events
        i = bisect_left(self.event_starts, ts)
        return i if i < len(events) else None

    def _webinar(self, person: _Person, begin: int, end: int, *, attend: bool) -> int:
        rng = self.rng
        index = self._event_after(begin + int(rng.random() * max(1, end - begin)))
        if index is None:
            return begin
        event = self.portal.marketing_events[index]
        registered = event.start - rng.randrange(1, 14) * MS_PER_DAY
        if event.start > self.cfg.now:
            state, ts = _REGISTERED, min(registered, self.cfg.now)
        elif attend:
            state, ts = _ATTENDED, event.start + rng.randrange(0, 10) * MINUTE
        elif rng.random() < 0.15:
            state, ts = _CANCELLED, registered + HOUR
        else:
            state, ts = _NO_SHOW, event.end
            if rng.random() < 0.4:
                recording = next(i for i, (_, kind, _) in enumerate(vocabulary.FORMS) if kind == "recording")
                ts = event.end + rng.randrange(1, 5) * MS_PER_DAY
                self._submit(person, recording, ts)
        self.participations.append((ts if state != _NO_SHOW else event.end, self._id(), index, person.obj.id, state))
        return min(ts, self.cfg.now)

    def _journey(self, person: _Person, begin: int) -> int:
        """comparison → webinar → pricing (several times) → demo request, within a few weeks."""
        rng, now = self.rng, self.cfg.now
        recent = rng.random() < 0.3
        span_start = max(begin, now - 45 * MS_PER_DAY) if recent else begin
        t = span_start + int(rng.random() * max(1, now - 40 * MS_PER_DAY - span_start))
        contact = person.obj.id
        for _ in range(1 + int(rng.random() * 2)):
            self.views.append((t, self._id(), contact, rng.choice(self.url_compare)))
            t += rng.randrange(1, 4) * MS_PER_DAY
        attended = rng.random() < 0.65
        t = max(t, self._webinar(person, t, t + 10 * MS_PER_DAY, attend=attended)) + rng.randrange(1, 5) * MS_PER_DAY
        pricing_visits = 1 + int(rng.random() * 4)
        for _ in range(pricing_visits):
            self.views.append((min(t, now), self._id(), contact, rng.choice(self.url_pricing)))
            t += rng.randrange(6, 72) * HOUR
        if rng.random() < 0.6 and t < now:
            demo_forms = [i for i, (_, kind, _) in enumerate(vocabulary.FORMS) if kind == "demo"]
            self._submit(person, rng.choice(demo_forms), t)
            self._sales_follow_up(person, t, attended=attended, pricing_visits=pricing_visits)
        return min(t, now)

    def _sales_follow_up(self, person: _Person, t: int, *, attended: bool, pricing_visits: int) -> None:
        rng, now, p = self.rng, self.cfg.now, self.portal
        contact = person.obj.id
        owner = person.obj.props.get("hubspot_owner_id") or str(rng.choice(p.owners).id)
        to_contact = ((schema.CONTACTS, contact),)

        def engage(object_type: str, at: int, props: dict[str, str]) -> None:
            if at < now:
                props = {"hs_timestamp": _iso(at), "hubspot_owner_id": owner, **props}
                p.create(object_type, props, associations=to_contact, at=at)

        t += rng.randrange(1, 20) * HOUR
        engage(
            schema.EMAILS,
            t,
            {
                "hs_email_direction": "EMAIL",
                "hs_email_subject": "Ihre Demo-Anfrage",
                "hs_email_status": "SENT",
                "hs_email_text": "Vielen Dank für Ihr Interesse …",
            },
        )
        if rng.random() < 0.6:
            engage(
                schema.EMAILS,
                t + rng.randrange(2, 48) * HOUR,
                {"hs_email_direction": "INCOMING_EMAIL", "hs_email_subject": "Re: Ihre Demo-Anfrage"},
            )
        engage(
            schema.CALLS,
            t + MS_PER_DAY,
            {
                "hs_call_direction": "OUTBOUND",
                "hs_call_title": "Erstgespräch",
                "hs_call_status": "COMPLETED",
                "hs_call_duration": str(rng.randrange(60, 1800) * 1000),
            },
        )
        outcome = rng.choices(("COMPLETED", "NO_SHOW", "RESCHEDULED"), (7, 2, 1))[0]
        meeting_at = t + rng.randrange(3, 10) * MS_PER_DAY
        engage(
            schema.MEETINGS,
            meeting_at,
            {
                "hs_meeting_title": "Demo",
                "hs_meeting_outcome": outcome,
                "hs_meeting_start_time": _iso(meeting_at),
                "hs_meeting_end_time": _iso(meeting_at + HOUR),
            },
        )
        engage(schema.NOTES, meeting_at + HOUR, {"hs_note_body": "Budget geklärt, Entscheidung im Quartal."})
        engage(
            schema.TASKS,
            t + 2 * HOUR,
            {
                "hs_task_subject": "Demo-Anfrage nachfassen",
                "hs_task_status": "COMPLETED",
                "hs_task_priority": "HIGH",
                "hs_task_type": "CALL",
            },
        )
        if outcome == "COMPLETED" and rng.random() < 0.75:
            self._deal(person, meeting_at, attended=attended, pricing_visits=pricing_visits, owner=owner)

    def _deal(self, person: _Person, t: int, *, attended: bool, pricing_visits: int, owner: str) -> None:
        rng, now = self.rng, self.cfg.now
        fit = person.company.fit if person.company else 0.0
        authority = {"decision": 0.15, "influencer": 0.05}.get(person.role, -0.1)
        p_win = 0.08 + 0.4 * fit + (0.15 if attended else 0.0) + 0.05 * min(pricing_visits, 3) + authority
        closes = t + rng.randrange(14, 120) * MS_PER_DAY
        if closes < now:
            stage = "closedwon" if rng.random() < p_win else "closedlost"
        else:
            stage = rng.choice(schema.DEAL_STAGES[:5])
        size = person.company.employees if person.company else 5
        props = {
            "dealname": f"{person.obj.props.get('company', person.obj.props['lastname'])} – Lead Scoring",
            "amount": str(rng.randrange(6, 60) * 1000 * (1 + min(size, 5000) // 500)),
            "dealstage": stage,
            "pipeline": "default",
            "closedate": _iso(closes),
            "hubspot_owner_id": owner,
        }
        if stage == "closedlost":
            props["closed_lost_reason"] = rng.choice(("Kein Budget", "Wettbewerber", "Timing", "Keine Rückmeldung"))
        deal = self.portal.create(schema.DEALS, props, associations=((schema.CONTACTS, person.obj.id),), at=t)
        deal.updated = min(now, closes if closes < now else t + MS_PER_DAY)
        if person.company is not None:
            self.portal.assoc.add(schema.DEALS, deal.id, schema.COMPANIES, person.company.obj.id, primary=True)
        lifecycle = "customer" if stage == "closedwon" else "opportunity" if stage != "closedlost" else "lead"
        person.obj.props["lifecyclestage"] = lifecycle

    def _unsubscribe(self, person: _Person, begin: int, end: int) -> int:
        rng = self.rng
        ts = begin + int(rng.random() * max(1, end - begin))
        campaign = self._campaign_at(ts)
        recipient = self._s(person.email)
        self.emails.append((ts, self._id(), recipient, _OPEN, campaign, -1, -1))
        kind = _SPAM if rng.random() < 0.2 else _STATUS
        self.emails.append((ts + 90_000, self._id(), recipient, kind, campaign, -1, -1))
        person.obj.props["hs_email_optout"] = "true"
        return ts + 90_000

    def _job_change(self, person: _Person, begin: int) -> int:
        """The old address bounces after the move; the person reappears at another company."""
        rng, now = self.rng, self.cfg.now
        left = begin + int(rng.random() * max(1, now - begin - 60 * MS_PER_DAY))
        self.emails.append(
            (
                left + 7 * MS_PER_DAY,
                self._id(),
                self._s(person.email),
                _BOUNCE,
                self._campaign_at(left + 7 * MS_PER_DAY),
                -1,
                _HARD,
            )
        )
        if person.company is None:
            return left + 7 * MS_PER_DAY
        new_company = rng.choice(self.companies)
        better = rng.choice([t for t in vocabulary.TITLES if t[1] in ("decision", "influencer")])
        moved = self._person(new_company, better, at=left + 30 * MS_PER_DAY)
        moved.obj.props.update(firstname=person.obj.props["firstname"], lastname=person.obj.props["lastname"])
        end = self._sessions(moved, moved.obj.created, now, self._count("researcher", "views"))
        moved.obj.updated = min(now, end)
        return left + 7 * MS_PER_DAY

    # ---- portal-wide touches -----------------------------------------------------------------------------

    def _open_tasks(self) -> None:
        """Each owner starts with a different load of open tasks: capacity differs from the first run on."""
        rng, p, now = self.rng, self.portal, self.cfg.now
        by_owner: dict[str, list[int]] = {}
        for person in self.people:
            owner_id = person.obj.props.get("hubspot_owner_id")
            if owner_id:
                by_owner.setdefault(owner_id, []).append(person.obj.id)
        for i, owner in enumerate(p.owners):
            contacts = by_owner.get(str(owner.id), [])
            load = (0, 3, 8, 15, 22, 30)[i % 6]
            for _ in range(min(load, len(contacts))):
                due = now + rng.randrange(-10, 14) * MS_PER_DAY
                created = now - rng.randrange(1, 30) * MS_PER_DAY
                p.create(
                    schema.TASKS,
                    {
                        "hs_timestamp": _iso(due),
                        "hs_task_subject": rng.choice(("Nachfassen", "Angebot senden", "Rückruf", "Follow-up")),
                        "hs_task_status": rng.choice(("NOT_STARTED", "NOT_STARTED", "IN_PROGRESS", "WAITING")),
                        "hs_task_priority": rng.choice(schema.TASK_PRIORITIES[1:]),
                        "hs_task_type": rng.choice(("TODO", "CALL", "EMAIL")),
                        "hubspot_owner_id": str(owner.id),
                    },
                    associations=((schema.CONTACTS, rng.choice(contacts)),),
                    at=created,
                )

    def _bulk_import_dates(self) -> None:
        """A fifth of the contacts share one modified date, as after a bulk import: the 10,000-result cap bites."""
        rng = self.rng
        when = self.cfg.now - 200 * MS_PER_DAY
        for person in self.people:
            if person.obj.updated < when and rng.random() < 0.4:
                person.obj.updated = when

    def _merges_and_archives(self) -> None:
        rng, p, now = self.rng, self.portal, self.cfg.now
        merges = max(1, len(self.people) // 200)
        for _ in range(merges):
            survivor = rng.choice(self.people)
            if survivor.obj.id not in p.stores[schema.CONTACTS].by_id:
                continue
            at = survivor.obj.created + int(rng.random() * max(1, now - survivor.obj.created))
            duplicate = self._person(
                survivor.company, (survivor.obj.props.get("jobtitle", ""), survivor.role), at=survivor.obj.created
            )
            self._sessions(duplicate, duplicate.obj.created, at, 3)
            p.merge(survivor.obj.id, duplicate.obj.id)
            survivor.obj.updated = max(survivor.obj.updated, min(now, at))
            self.people.remove(duplicate)
        for object_type, share in ((schema.CONTACTS, 0.01), (schema.COMPANIES, 0.01), (schema.DEALS, 0.02)):
            store = p.stores[object_type]
            # At least one archived record of each kind, so that every portal exercises deletes.
            for object_id in sorted(
                rng.sample(store.live, min(len(store.live), max(1, round(len(store.live) * share))))
            ):
                obj = store.by_id[object_id]
                store.archive(object_id, obj.updated + int(rng.random() * max(1, now - obj.updated)))


def _messy_size(rng: random.Random, employees: int) -> str:
    r = rng.random()
    if r < 0.12:
        return ""
    if r < 0.3:
        low = max(1, employees // 50 * 50)
        return f"{low}-{low * 2}"
    if r < 0.45 and employees >= 1000:
        return f"{employees:,}"
    if r < 0.5 and employees >= 1000:
        return f"{employees:,}".replace(",", ".")
    return str(employees)


_ASCII = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "Ä": "ae",
        "Ö": "oe",
        "Ü": "ue",
        "ş": "s",
        "ı": "i",  # noqa: RUF001  # the dotless i of Turkish names, mapped on purpose
        "ø": "o",
        "é": "e",
        "ç": "c",
        " ": "-",
        "&": "und",
        ".": "",
    }
)


def _ascii(text: str) -> str:
    return text.translate(_ASCII).lower().encode("ascii", "ignore").decode()


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
