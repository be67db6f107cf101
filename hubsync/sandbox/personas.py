"""What each persona leaves behind in a generated portal, drawn from the generator's one seeded `rng`.

* researcher: blog and product pages, content downloads (e-book, whitepaper, checklist), newsletter opens,
  sometimes a webinar registration that ends as a no-show and a recording request;
* buyer: comparison page → webinar (registered, attended) → pricing (several times) → demo or consultation
  request, then sales emails, calls and a meeting, and a deal whose outcome follows fit and behaviour;
* newsletter reader: opens and clicks of marketing emails, a few page views;
* dormant: a burst of activity more than a year ago, nothing since;
* unsubscriber: opens, then an unsubscribe (sometimes a spam report);
* job changer: activity at the old employer, a hard bounce on the old address, a new contact at a new company.

Each contact's persona stays on the portal as its hidden intent (`Portal.intent`), which the simulated sales team
(`sales.py`) follows; HubSpot's API never shows it.
"""

# The shares and probabilities below are the generative model itself; naming each one would hide it.
# ruff: noqa: PLR2004

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubsync.sandbox import catalog, schema, vocabulary
from hubsync.sandbox.portal import (
    BOUNCE_CATEGORIES,
    EMAIL_EVENT_TYPES,
    MS_PER_DAY,
    PARTICIPATION_STATES,
    iso_instant,
)

if TYPE_CHECKING:
    import random

    from hubsync.sandbox.generator import GeneratorConfig
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import CrmObject

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
PERSONA_NAMES: tuple[str, ...] = tuple(name for name, _ in PERSONAS)

_OPEN, _CLICK, _BOUNCE, _STATUS, _SPAM = (
    EMAIL_EVENT_TYPES.index(t) for t in ("OPEN", "CLICK", "BOUNCE", "STATUSCHANGE", "SPAMREPORT")
)
_HARD, _SOFT = (BOUNCE_CATEGORIES.index(c) for c in ("HARD_BOUNCE", "SOFT_BOUNCE"))
_REGISTERED, _ATTENDED, _NO_SHOW, _CANCELLED = range(len(PARTICIPATION_STATES))


@dataclass(slots=True, eq=False)
class Company:
    obj: CrmObject
    domain: str
    employees: int
    fit: float
    owner: int


@dataclass(slots=True, eq=False)
class Person:
    obj: CrmObject
    company: Company | None
    role: str
    email: str


class PersonaActivity:
    """The generator's builder plays each contact's persona with these methods; `generator.py` holds the rest of
    it (owners, assets, companies, people, portal-wide touches). Both halves draw from one `rng` in one order."""

    cfg: GeneratorConfig
    rng: random.Random
    portal: Portal
    site: str
    url_home: int
    url_compare: list[int]
    url_case: list[int]
    url_pricing: list[int]
    url_content: list[int]
    url_jobs: list[int]
    views: list[tuple[int, ...]]
    emails: list[tuple[int, ...]]
    submissions: list[tuple[int, ...]]
    participations: list[tuple[int, ...]]
    campaign_sent: list[int]
    event_starts: list[int]
    companies: list[Company]
    scale: float

    def _person(self, company: Company | None, title: tuple[str, str], *, at: int | None = None) -> Person:
        raise NotImplementedError  # the builder in generator.py creates people; a job changer needs a new one

    def _activity(self, person: Person) -> None:
        rng = self.rng
        persona = rng.choices([p for p, _ in PERSONAS], [w for _, w in PERSONAS])[0]
        if person.role == "student" and persona == "buyer":
            persona = "researcher"
        # Kept for the simulated sales team (sales.py); a record, not a draw: the rng sequence stays as it was.
        self.portal.intent[person.obj.id] = persona
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

    def _sessions(self, person: Person, begin: int, end: int, count: int) -> int:
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

    def _newsletter(self, person: Person, begin: int, end: int, count: int) -> int:
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

    def _submit(self, person: Person, form_index: int, ts: int) -> None:
        page = self._s(self.site + vocabulary.FORMS[form_index][2])
        self.submissions.append((ts, self._id(), form_index, person.obj.id, self._s(person.email), page))
        self.views.append((ts - 40_000, self._id(), person.obj.id, page))

    def _downloads(self, person: Person, begin: int, end: int) -> int:
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

    def _webinar(self, person: Person, begin: int, end: int, *, attend: bool) -> int:
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

    def _journey(self, person: Person, begin: int) -> int:
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

    def _sales_follow_up(self, person: Person, t: int, *, attended: bool, pricing_visits: int) -> None:
        rng, now, p = self.rng, self.cfg.now, self.portal
        contact = person.obj.id
        owner = person.obj.props.get("hubspot_owner_id") or str(rng.choice(p.owners).id)
        to_contact = ((schema.CONTACTS, contact),)

        def engage(object_type: str, at: int, props: dict[str, str]) -> None:
            if at < now:
                props = {"hs_timestamp": iso_instant(at), "hubspot_owner_id": owner, **props}
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
                "hs_meeting_start_time": iso_instant(meeting_at),
                "hs_meeting_end_time": iso_instant(meeting_at + HOUR),
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

    def _deal(self, person: Person, t: int, *, attended: bool, pricing_visits: int, owner: str) -> None:
        rng, now = self.rng, self.cfg.now
        fit = person.company.fit if person.company else 0.0
        authority = {"decision": 0.15, "influencer": 0.05}.get(person.role, -0.1)
        p_win = 0.08 + 0.4 * fit + (0.15 if attended else 0.0) + 0.05 * min(pricing_visits, 3) + authority
        closes = t + rng.randrange(14, 120) * MS_PER_DAY
        if closes < now:
            stage = "closedwon" if rng.random() < p_win else "closedlost"
        else:
            stage = rng.choice(catalog.DEAL_STAGES[:5])
        size = person.company.employees if person.company else 5
        props = {
            "dealname": f"{person.obj.props.get('company', person.obj.props['lastname'])} – Lead Scoring",
            "amount": str(rng.randrange(6, 60) * 1000 * (1 + min(size, 5000) // 500)),
            "dealstage": stage,
            "pipeline": "default",
            "closedate": iso_instant(closes),
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

    def _unsubscribe(self, person: Person, begin: int, end: int) -> int:
        rng = self.rng
        ts = begin + int(rng.random() * max(1, end - begin))
        campaign = self._campaign_at(ts)
        recipient = self._s(person.email)
        self.emails.append((ts, self._id(), recipient, _OPEN, campaign, -1, -1))
        kind = _SPAM if rng.random() < 0.2 else _STATUS
        self.emails.append((ts + 90_000, self._id(), recipient, kind, campaign, -1, -1))
        person.obj.props["hs_email_optout"] = "true"
        return ts + 90_000

    def _job_change(self, person: Person, begin: int) -> int:
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
        # At the new company the person reads like a researcher (below); the old record is the job changer.
        self.portal.intent[moved.obj.id] = "researcher"
        moved.obj.props.update(firstname=person.obj.props["firstname"], lastname=person.obj.props["lastname"])
        end = self._sessions(moved, moved.obj.created, now, self._count("researcher", "views"))
        moved.obj.updated = min(now, end)
        return left + 7 * MS_PER_DAY
