"""Builders shared by the scoring tests: the default model from config/hubsync.toml, and activities on day N of a
story, as the sandbox portal generates them."""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from hubsync.records import Activity, ActivityKind, Company, Contact
from hubsync.scoring import ScoringModel
from hubsync.validation import parse
from tests.support.paths import DEFAULT_CONFIG

# Day 0 of every story; a Monday morning, UTC.
DAY0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SITE = "https://www.acme.example"
_ids = itertools.count(1)


def raw_scoring() -> dict[str, Any]:
    """The `[scoring]` table as read from the file, fresh each time so a test may change it."""
    with DEFAULT_CONFIG.open("rb") as f:
        data: dict[str, Any] = tomllib.load(f)["scoring"]
    return data


@cache
def default_model() -> ScoringModel:
    return parse(ScoringModel, raw_scoring(), source=str(DEFAULT_CONFIG), prefix=("scoring",))


def day(n: float) -> datetime:
    return DAY0 + timedelta(days=n)


def _activity(n: float, kind: ActivityKind, contact_id: int, **attributes: str | None) -> Activity:
    return Activity(id=f"test:{next(_ids)}", contact_id=contact_id, kind=kind, occurred_at=day(n), **attributes)


def page(n: float, path: str, contact_id: int = 1) -> Activity:
    return _activity(n, ActivityKind.PAGE_VIEW, contact_id, url=SITE + path)


def form(n: float, name: str, path: str = "/ressourcen", contact_id: int = 1) -> Activity:
    return _activity(n, ActivityKind.FORM_SUBMISSION, contact_id, form_name=name, url=SITE + path)


def webinar(n: float, event_type: str, contact_id: int = 1) -> Activity:
    return _activity(
        n, ActivityKind.MARKETING_EVENT, contact_id, event_type=event_type, event_name="Lead Scoring in der Praxis"
    )


def email(n: float, event_type: str, status: str | None = None, contact_id: int = 1) -> Activity:
    return _activity(n, ActivityKind.EMAIL_EVENT, contact_id, event_type=event_type, status=status)


def crm(
    n: float, event_type: str, direction: str | None = None, status: str | None = None, contact_id: int = 1
) -> Activity:
    return _activity(
        n, ActivityKind.CRM_ENGAGEMENT, contact_id, event_type=event_type, direction=direction, status=status
    )


def profile_change(n: float, field: str, change: str, contact_id: int = 1) -> Activity:
    return _activity(n, ActivityKind.PROFILE_CHANGE, contact_id, event_type=field, title=change)


def contact(contact_id: int = 1, *, jobtitle: str | None = None, email: str | None = None, **kw: Any) -> Contact:
    return Contact(
        id=contact_id, email=email or f"person{contact_id}@acme.example", jobtitle=jobtitle, company_id=500, **kw
    )


def company(employees: str | None = "120", industry: str | None = "COMPUTER_SOFTWARE", **kw: Any) -> Company:
    return Company(
        id=500, name="Acme GmbH", domain="acme.example", numberofemployees=employees, industry=industry, **kw
    )


def load_variant(change: Callable[[dict[str, Any]], object]) -> ScoringModel:
    """The default model with `change` applied to its raw `[scoring]` table (validated like the file)."""
    data = raw_scoring()
    change(data)
    return parse(ScoringModel, data, source=str(DEFAULT_CONFIG), prefix=("scoring",))
