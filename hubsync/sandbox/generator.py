"""A seeded, realistic portal: companies, buying centers, owners, deals and years of activity by personas.

The same seed gives the same portal (and the same snapshot, byte for byte): every draw comes from one
`random.Random(seed)` in a fixed order and nothing iterates a set or reads the wall clock.

What each persona leaves behind is in `personas.py`; this module builds the rest and runs the personas.
"""

# The shares and probabilities below are the generative model itself; naming each one would hide it.
# ruff: noqa: PLR2004

from __future__ import annotations

import gc
import random
from dataclasses import dataclass
from datetime import UTC, datetime

from hubsync.sandbox import catalog, schema, vocabulary
from hubsync.sandbox.personas import HOUR, Company, Person, PersonaActivity
from hubsync.sandbox.portal import MS_PER_DAY, Portal, iso_instant
from hubsync.sandbox.records import Campaign, Form, MarketingEvent, Owner

# The generated portal's "now": a fixed instant, so that a seed alone decides the portal.
DEFAULT_NOW = int(datetime(2025, 6, 2, 6, 0, tzinfo=UTC).timestamp() * 1000)
HISTORY_DAYS = 3 * 365


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    contacts: int = 2000
    seed: int = 7
    activities_per_contact: float = 20.0
    vendor: str = "leadwerk"
    now: int = DEFAULT_NOW


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


class _Builder(PersonaActivity):
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
        self.people: list[Person] = []
        self.campaign_sent: list[int] = []
        self.event_starts: list[int] = []
        self.companies: list[Company] = []
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
            email = f"{ascii_name(first)}.{ascii_name(last)}.{i}@{self.cfg.vendor}.example"
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
            domain = f"{ascii_name(stem)}-{ascii_name(kind)}-{i}.example"
            employees = int(rng.lognormvariate(4.2, 1.5)) + 1
            industry = rng.choice(catalog.INDUSTRIES) if rng.random() > 0.12 else ""
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
            self.companies.append(Company(obj, domain, employees, fit, owner))

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

    def _person(self, company: Company | None, title: tuple[str, str], *, at: int | None = None) -> Person:
        rng = self.rng
        first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
        job, role = title
        local = f"{ascii_name(first)}.{ascii_name(last)}"
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
        person = Person(obj, company, role, email)
        self.people.append(person)
        return person

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
                        "hs_timestamp": iso_instant(due),
                        "hs_task_subject": rng.choice(("Nachfassen", "Angebot senden", "Rückruf", "Follow-up")),
                        "hs_task_status": rng.choice(("NOT_STARTED", "NOT_STARTED", "IN_PROGRESS", "WAITING")),
                        "hs_task_priority": rng.choice(catalog.TASK_PRIORITIES[1:]),
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


def ascii_name(text: str) -> str:
    return text.translate(_ASCII).lower().encode("ascii", "ignore").decode()


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"
