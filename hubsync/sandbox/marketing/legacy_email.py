"""The legacy email APIs besides the event log (`marketing/email_events.py`): email campaigns, marketing emails with
their statistics, subscription types, and the subscription timeline (the unsubscribes among the email events)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from hubsync.sandbox import responses
from hubsync.sandbox.marketing.rows import row_offset, row_uuid
from hubsync.sandbox.portal import EMAIL_EVENT_TYPES
from hubsync.sandbox.responses import Reply

if TYPE_CHECKING:
    from hubsync.sandbox.portal import Portal
    from hubsync.sandbox.records import Campaign
    from hubsync.sandbox.routing import Request

CAMPAIGNS_MAX = 1000
MARKETING_EMAILS_MAX = 300
TIMELINE_MAX = 1000
# The one subscription type a portal starts with; the email events' unsubscribes name it.
SUBSCRIPTION_ID = 7_000_001
_COUNTER_NAMES = {"DELIVERED": "delivered", "OPEN": "open", "CLICK": "click", "BOUNCE": "bounce"}
_UNSUBSCRIBE = EMAIL_EVENT_TYPES.index("STATUSCHANGE")


def _counters(portal: Portal) -> dict[int, Counter[str]]:
    """Events per campaign and kind, counted once per state of the event log."""
    key = ("campaign_counters", len(portal.email_events))
    cached = portal.cache.get("campaign_counters")
    if isinstance(cached, tuple) and cached[0] == key:
        return cached[1]  # type: ignore[no-any-return]  # the cache holds what this function put there
    counts: dict[int, Counter[str]] = {}
    _, _, _, kinds, campaigns, _, _ = portal.email_events.data
    for kind, campaign in zip(kinds, campaigns, strict=True):
        name = "unsubscribed" if kind == _UNSUBSCRIBE else _COUNTER_NAMES.get(EMAIL_EVENT_TYPES[kind])
        if name is not None:
            counts.setdefault(campaign, Counter())[name] += 1
    for counter in counts.values():
        counter["sent"] = counter["delivered"] + counter["bounce"]
    portal.cache["campaign_counters"] = (key, counts)
    return counts


def _page(req: Request, maximum: int) -> tuple[int, int]:
    return row_offset(req, "offset"), req.q_int("limit", 100, maximum)


def list_campaigns(portal: Portal, req: Request) -> Reply:
    """`GET /email/public/v1/campaigns`: `{campaigns, hasMore, offset}`."""
    offset, limit = _page(req, CAMPAIGNS_MAX)
    with portal.lock:
        campaigns = portal.campaigns[offset : offset + limit]
        more = offset + limit < len(portal.campaigns)
        results = [{"id": c.id, "appId": 113, "appName": "Batch", "lastUpdatedTime": c.sent} for c in campaigns]
    return Reply(200, {"campaigns": results, "hasMore": more, "offset": str(offset + len(results))})


def get_campaign(portal: Portal, req: Request) -> Reply:
    """`GET /email/public/v1/campaigns/{campaignId}`: the campaign with its counters."""
    with portal.lock:
        campaign = next((c for c in portal.campaigns if str(c.id) == req.params["campaignId"]), None)
        if campaign is None:
            raise responses.not_found(f"No email campaign {req.params['campaignId']}")
        counters = dict(_counters(portal).get(campaign.id, Counter()))
    return Reply(
        200,
        {
            "id": campaign.id,
            "appId": 113,
            "appName": "Batch",
            "contentId": campaign.id - 300_000_000,
            "name": campaign.name,
            "subject": campaign.subject,
            "type": "BATCH_EMAIL",
            "counters": counters,
            "numIncluded": counters.get("sent", 0),
            "numQueued": 0,
            "processingState": "DONE",
            "lastUpdatedTime": campaign.sent,
        },
    )


def _marketing_email(campaign: Campaign, counters: Counter[str]) -> dict[str, Any]:
    return {
        "id": campaign.id - 300_000_000,
        "name": campaign.name,
        "subject": campaign.subject,
        "created": campaign.sent,
        "updated": campaign.sent,
        "publishDate": campaign.sent,
        "state": "PUBLISHED",
        "isPublished": True,
        "emailType": "BATCH_EMAIL",
        "campaign": str(campaign.id),
        "campaignName": campaign.name,
        "allEmailCampaignIds": [campaign.id],
        "stats": {"counters": dict(counters)},
    }


def marketing_emails(portal: Portal, req: Request) -> Reply:
    """`GET /marketing-emails/v1/emails/with-statistics`: `{objects, total, limit, offset}`."""
    offset, limit = _page(req, MARKETING_EMAILS_MAX)
    with portal.lock:
        counters = _counters(portal)
        objects = [
            _marketing_email(c, counters.get(c.id, Counter())) for c in portal.campaigns[offset : offset + limit]
        ]
        total = len(portal.campaigns)
    return Reply(200, {"objects": objects, "total": total, "limit": limit, "offset": offset})


def subscription_types(portal: Portal, req: Request) -> Reply:
    """`GET /email/public/v1/subscriptions`: the portal's one subscription type."""
    del req
    definition = {
        "id": SUBSCRIPTION_ID,
        "portalId": portal.portal_id,
        "name": "Marketing Information",
        "description": "Marketing offers and updates.",
        "active": True,
        "internal": False,
        "category": "Marketing",
        "channel": "Email",
        "businessUnitId": 0,
    }
    return Reply(200, {"subscriptionDefinitions": [definition]})


def subscription_timeline(portal: Portal, req: Request) -> Reply:
    """`GET /email/public/v1/subscriptions/timeline`: each unsubscribe among the email events, oldest first."""
    offset, limit = _page(req, TIMELINE_MAX)
    start, end = (int(v) if (v := req.q(n)) and v.isdigit() else None for n in ("startTimestamp", "endTimestamp"))
    with portal.lock:
        log = portal.email_events
        ts, ids, recipients, kinds, _, _, _ = log.data
        rows = [i for i in log.between(start, end) if kinds[i] == _UNSUBSCRIBE]
        page = rows[offset : offset + limit]
        timeline = [
            {
                "timestamp": ts[i],
                "portalId": portal.portal_id,
                "recipient": portal.strings[recipients[i]],
                "normalizedEmailId": row_uuid(portal, ids[i]),
                "changes": [
                    {
                        "change": "UNSUBSCRIBED",
                        "changeType": "SUBSCRIPTION_STATUS",
                        "subscriptionId": SUBSCRIPTION_ID,
                        "source": "SOURCE_RECIPIENT",
                        "timestamp": ts[i],
                        "portalId": portal.portal_id,
                        "causedByEvent": {"id": row_uuid(portal, ids[i]), "created": ts[i]},
                    }
                ],
            }
            for i in page
        ]
    more = offset + limit < len(rows)
    return Reply(200, {"timeline": timeline, "hasMore": more, "offset": str(offset + len(page))})
