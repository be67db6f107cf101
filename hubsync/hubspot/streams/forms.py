"""Forms (`GET /marketing/v3/forms`) and their submissions, the legacy
`GET /form-integrations/v1/submissions/forms/{guid}` (no SDK wrapper), newest first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hubsync.hubspot.activity_mapping import form_names, form_submission_to_activity
from hubsync.hubspot.answers import results_page
from hubsync.hubspot.client import HubSpotClient
from hubsync.hubspot.paging import next_after
from hubsync.hubspot.streams import log_skips
from hubsync.hubspot.values import Skip, as_json, parse_timestamp
from hubsync.records import Activity

FORMS_LIMIT: Final = 100
SUBMISSIONS_LIMIT: Final = 50


def list_forms(client: HubSpotClient) -> dict[str, str]:
    """Form guid → name of every live form."""
    api = client.api("marketing.forms.forms_api")
    found: list[Any] = []
    after: str | None = None
    while True:
        kwargs: dict[str, Any] = {"limit": FORMS_LIMIT}
        if after:
            kwargs["after"] = after
        answer = client.call(api.get_page, operation="list forms", expect=results_page, **kwargs)
        found.extend(as_json(raw) for raw in answer.results)
        after = next_after(answer)
        if after is None:
            return form_names(found)


def submissions_page(
    client: HubSpotClient,
    *,
    form_id: str,
    form_name: str | None,
    since: datetime,
    position: Any,
    contact_id_by_email: Mapping[str, int],
) -> tuple[list[Activity], int, Any]:
    """One page of a form's submissions (newest first) from `position`; the next position is None once the form
    has no more pages or a submission older than `since` was reached."""
    qs: dict[str, Any] = {"limit": SUBMISSIONS_LIMIT}
    if position:
        qs["after"] = position
    answer = client.request(
        "GET",
        f"/form-integrations/v1/submissions/forms/{form_id}",
        qs=qs,
        operation="form submissions",
        expect=results_page,
    )
    activities: list[Activity] = []
    skips: list[Skip] = []
    reached_older = False
    for raw in answer["results"]:
        submitted = parse_timestamp(raw.get("submittedAt"))
        if submitted is not None and submitted < since:
            reached_older = True
            continue
        mapped = form_submission_to_activity(
            raw, form_id=form_id, form_name=form_name, contact_id_by_email=contact_id_by_email
        )
        if isinstance(mapped, Skip):
            skips.append(mapped)
        else:
            activities.append(mapped)
    return activities, log_skips("form_submissions", skips), None if reached_older else next_after(answer)
