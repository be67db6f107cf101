"""Time passing in a sandbox portal: the clock moves forward day by day and contacts act, the way the generated
history does: a few buyers walk comparison page → webinar → pricing → demo request, others browse and open
newsletters. Deterministic for a seed. Used by `hubsync demo` and the end-to-end tests.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from hubsync.sandbox.portal import Portal

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Simulated:
    days: int
    buyers: tuple[int, ...]
    page_views: int
    form_submissions: int
    email_events: int
    participations: int

    @property
    def activities(self) -> int:
        return self.page_views + self.form_submissions + self.email_events + self.participations


def simulate(portal: Portal, *, days: int, seed: int, buyers: int = 8, browsers: float = 0.1) -> Simulated:
    """Advance the portal `days` days; `buyers` contacts go through the whole buying sequence (spread over the
    days), a share `browsers` of the others reads a page or opens a newsletter each day."""
    rng = random.Random(seed)  # noqa: S311  (simulated behaviour, not security)
    site = f"https://www.{portal.vendor}.example"
    with portal.lock:
        contacts = [
            cid for cid in portal.store("contacts").live if portal.store("contacts").by_id[cid].props.get("email")
        ]
        demo_form = _form(portal, r"demo|beratung|consultation")
        content_form = _form(portal, r"e-book|whitepaper|checkliste|checklist")
        webinar = max(portal.marketing_events, key=lambda e: e.start).external_id if portal.marketing_events else None
    chosen = rng.sample(contacts, min(buyers, len(contacts)))
    others = [c for c in contacts if c not in set(chosen)]
    counts = {"page_views": 0, "form_submissions": 0, "email_events": 0, "participations": 0}
    # Each buyer's steps, on days spread over the period, in the order that earns the sequence bonus.
    plans: dict[int, list[tuple[int, str]]] = {}
    for buyer in chosen:
        steps = ["compare", "webinar", "pricing", "pricing", "demo"]
        start = rng.randrange(max(1, days - len(steps) + 1))
        plans[buyer] = [(min(days - 1, start + i), step) for i, step in enumerate(steps)]
    for day in range(days):
        portal.advance(DAY_S)
        now_ms = portal.now
        for buyer, plan in plans.items():
            for when, step in plan:
                if when == day:
                    at = now_ms - rng.randrange(1, DAY_S) * 1000
                    _act(portal, buyer, step, site=site, at=at, demo_form=demo_form, webinar=webinar, counts=counts)
        for contact in rng.sample(others, int(len(others) * browsers)):
            at = now_ms - rng.randrange(1, DAY_S) * 1000
            roll = rng.random()
            if roll < 0.6:  # noqa: PLR2004  (share of browsing days spent reading a page)
                page = rng.choice(["/", "/blog/lead-scoring", "/blog/crm-hygiene", "/produkt/funktionen", "/jobs"])
                portal.add_page_view(contact, site + page, at=at)
                counts["page_views"] += 1
            elif roll < 0.9 or content_form is None:  # noqa: PLR2004  (… and opening a newsletter)
                email = portal.store("contacts").by_id[contact].props["email"]
                portal.add_email_event(email, "OPEN", at=at)
                counts["email_events"] += 1
            else:
                portal.add_form_submission(contact, content_form, page_url=site + "/ressourcen", at=at)
                counts["form_submissions"] += 1
    return Simulated(days=days, buyers=tuple(chosen), **counts)


def _form(portal: Portal, pattern: str) -> str | None:
    found = next((f for f in portal.forms if re.search(pattern, f.name, re.IGNORECASE) and not f.archived), None)
    return found.name if found else None


def _act(
    portal: Portal,
    contact: int,
    step: str,
    *,
    site: str,
    at: int,
    demo_form: str | None,
    webinar: str | None,
    counts: dict[str, int],
) -> None:
    if step == "compare":
        portal.add_page_view(contact, f"{site}/vergleich/alternativen", at=at)
        counts["page_views"] += 1
    elif step == "pricing":
        portal.add_page_view(contact, f"{site}/preise", at=at)
        counts["page_views"] += 1
    elif step == "webinar" and webinar is not None:
        portal.add_participation(contact, webinar, "ATTENDED", at=at)
        counts["participations"] += 1
    elif step == "demo" and demo_form is not None:
        portal.add_form_submission(contact, demo_form, page_url=f"{site}/demo", at=at)
        counts["form_submissions"] += 1
