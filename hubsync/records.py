"""Plain frozen records shared by every layer: what hubsync knows about a portal, free of HubSpot's JSON and of SQL.

Ids of CRM objects (contacts, companies, deals, owners) are HubSpot's numeric ids as `int`. Times are timezone-aware
UTC `datetime`s. Property values that HubSpot sends as free text (employee counts, revenue, industry, job title) stay
strings here: the scoring layer parses them and treats what it cannot parse as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple


class ActivityKind(StrEnum):
    PAGE_VIEW = "page_view"
    FORM_SUBMISSION = "form_submission"
    EMAIL_EVENT = "email_event"
    MARKETING_EVENT = "marketing_event"
    CRM_ENGAGEMENT = "crm_engagement"
    # Made by the pull, not read from HubSpot: a held contact's job title or primary company changed.
    PROFILE_CHANGE = "profile_change"


class ProfileField(StrEnum):
    """What a `profile_change` activity says changed (its `event_type`)."""

    JOBTITLE = "jobtitle"
    COMPANY = "company"


class EmailEventType(StrEnum):
    """Marketing email events, normalised from the legacy email events API."""

    SENT = "sent"
    DELIVERED = "delivered"
    OPEN = "open"
    CLICK = "click"
    BOUNCE = "bounce"
    UNSUBSCRIBE = "unsubscribe"
    SPAM_REPORT = "spam_report"


class MarketingEventType(StrEnum):
    """Participation states of a marketing event (webinar)."""

    REGISTERED = "registered"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class EngagementType(StrEnum):
    """CRM engagement objects."""

    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    NOTE = "note"
    TASK = "task"


class Activity(NamedTuple):
    """One thing a contact did (or that happened with them), from any stream.

    A NamedTuple rather than a frozen dataclass like the other records: a full rescore builds millions of them,
    and a NamedTuple is built five times faster (measured 0.3 µs against 2.1 µs); it is just as immutable.

    `id` is unique across streams: the stream name, a colon, and the source's own id (`email_event:4711`).
    `event_type` holds the value of the enum that matches `kind` (EmailEventType, MarketingEventType,
    EngagementType, ProfileField); page views and form submissions leave it None. Attributes that do not apply
    stay None. A `profile_change` keeps the change in words in `title` ("Manager → Head of IT").
    """

    id: str
    contact_id: int
    kind: ActivityKind
    occurred_at: datetime
    event_type: str | None = None
    url: str | None = None
    title: str | None = None
    form_id: str | None = None
    form_name: str | None = None
    campaign_id: str | None = None
    event_name: str | None = None
    # Engagements: INCOMING / OUTGOING for emails, INBOUND / OUTBOUND for calls.
    direction: str | None = None
    # Bounces: "hard" or "soft"; meetings / calls: HubSpot's outcome or status value.
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    jobtitle: str | None = None
    country: str | None = None
    lifecyclestage: str | None = None
    owner_id: int | None = None
    # The primary company (HubSpot's `associatedcompanyid`); all companies are in the associations.
    company_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # Every property pulled, raw, as HubSpot sent it (profile rules may name any of them).
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return _full_name(self.firstname, self.lastname)

    @property
    def display_name(self) -> str:
        return self.full_name or self.email or f"contact {self.id}"


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    name: str | None = None
    domain: str | None = None
    industry: str | None = None
    # Raw: "1,000", "50-100", "" all occur.
    numberofemployees: str | None = None
    annualrevenue: str | None = None
    country: str | None = None
    owner_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Owner:
    id: int
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    user_id: int | None = None
    archived: bool = False

    @property
    def display_name(self) -> str:
        return _full_name(self.firstname, self.lastname) or self.email or f"owner {self.id}"


@dataclass(frozen=True, slots=True)
class Deal:
    id: int
    name: str | None = None
    pipeline: str | None = None
    stage: str | None = None
    amount: str | None = None
    closed_won: bool | None = None
    close_date: datetime | None = None
    owner_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Association:
    """A directed association between two CRM objects, with HubSpot's association type id."""

    from_type: str
    from_id: int
    to_type: str
    to_id: int
    type_id: int
    label: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One event of a HubSpot webhook request (docs/hubspot.md, "Webhooks"): what changed on which record, when.
    `payload` is the event as HubSpot sent it (a JSON object): merge and association details are read from it."""

    event_id: int
    subscription_type: str
    object_id: int
    occurred_at: datetime
    attempt_number: int = 0
    portal_id: int | None = None
    property_name: str | None = None
    payload: Mapping[str, object] = field(default_factory=dict)

    @property
    def object_type(self) -> str:
        """ "contact" of "contact.propertyChange"."""
        return self.subscription_type.split(".", 1)[0]

    @property
    def change(self) -> str:
        """ "propertyChange" of "contact.propertyChange"."""
        return self.subscription_type.split(".", 1)[-1]


def _full_name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


def email_key(email: str) -> str:
    """An address as hubsync compares it: HubSpot treats addresses case-insensitively, and the legacy APIs send
    them as typed."""
    return email.strip().lower()
