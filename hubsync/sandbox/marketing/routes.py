"""The marketing route table: each endpoint's path template, handler and the scope that admits it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hubsync.sandbox.marketing.email_events import email_events
from hubsync.sandbox.marketing.forms import form_submissions, get_form, list_forms
from hubsync.sandbox.marketing.legacy_email import (
    get_campaign,
    list_campaigns,
    marketing_emails,
    subscription_timeline,
    subscription_types,
)
from hubsync.sandbox.marketing.marketing_events import (
    breakdown_by_contact,
    breakdown_by_event,
    counters_by_event,
    get_marketing_event,
    list_marketing_events,
)
from hubsync.sandbox.marketing.web_events import web_event_types, web_events
from hubsync.sandbox.routing import Route

if TYPE_CHECKING:
    from collections.abc import Callable


def _scope(name: str) -> Callable[[dict[str, str]], tuple[str, ...]]:
    return lambda _params: (name,)


PARTICIPATIONS = "/marketing/v3/marketing-events/participations"


def routes() -> list[Route]:
    events = _scope("crm.objects.marketing_events.read")
    return [
        Route("GET", "/email/public/v1/events", email_events, _scope("content")),
        Route("GET", "/email/public/v1/campaigns", list_campaigns, _scope("content")),
        Route("GET", "/email/public/v1/campaigns/{campaignId}", get_campaign, _scope("content")),
        Route("GET", "/email/public/v1/subscriptions", subscription_types, _scope("content")),
        Route("GET", "/email/public/v1/subscriptions/timeline", subscription_timeline, _scope("content")),
        Route("GET", "/marketing-emails/v1/emails/with-statistics", marketing_emails, _scope("content")),
        Route("GET", "/marketing/v3/forms", list_forms, _scope("forms")),
        Route("GET", "/marketing/v3/forms/{formId}", get_form, _scope("forms")),
        Route("GET", "/form-integrations/v1/submissions/forms/{formGuid}", form_submissions, _scope("forms")),
        Route("GET", "/events/v3/events/event-types", web_event_types, _scope("crm.objects.contacts.read")),
        Route("GET", "/events/v3/events", web_events, _scope("crm.objects.contacts.read")),
        Route("GET", f"{PARTICIPATIONS}/contacts/{{contactIdentifier}}/breakdown", breakdown_by_contact, events),
        Route("GET", f"{PARTICIPATIONS}/{{eventId}}/breakdown", breakdown_by_event, events),
        Route("GET", f"{PARTICIPATIONS}/{{externalAccountId}}/{{eventId}}/breakdown", breakdown_by_event, events),
        Route("GET", f"{PARTICIPATIONS}/{{externalAccountId}}/{{eventId}}", counters_by_event, events),
        Route("GET", f"{PARTICIPATIONS}/{{eventId}}", counters_by_event, events),
        Route("GET", "/marketing/v3/marketing-events", list_marketing_events, events),
        Route("GET", "/marketing/v3/marketing-events/{objectId}", get_marketing_event, events),
    ]
