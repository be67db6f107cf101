"""HubSpot's CRM batch update (contacts, companies): up to 100 records per request, with 207 partial failures, and
the error HubSpot gives for a property that does not exist."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInput as CompanyBatchInput
from hubspot.crm.companies import SimplePublicObjectBatchInput as CompanyInput
from hubspot.crm.contacts import BatchInputSimplePublicObjectBatchInput as ContactBatchInput
from hubspot.crm.contacts import SimplePublicObjectBatchInput as ContactInput

from hubsync.hubspot.answers import results_page
from hubsync.hubspot.properties import COMPANIES, CONTACTS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hubsync.hubspot.client import HubSpotClient

BATCH_MAX: Final = 100

_MODELS: Final = {CONTACTS: (ContactBatchInput, ContactInput), COMPANIES: (CompanyBatchInput, CompanyInput)}

# HubSpot's message, as it may arrive quoted inside a JSON string: Property \"hubsync_segment\" does not exist.
_MISSING = re.compile(r'Property \\?"?([A-Za-z0-9_]+)\\?"? does not exist')


def update_batch(client: HubSpotClient, object_type: str, updates: Mapping[int, Mapping[str, str]]) -> dict[int, str]:
    """Send one batch update (record id → properties); the error of every record HubSpot did not update (empty: all
    landed). A request HubSpot refuses as a whole raises (FatalHubSpotError, status 400 for an invalid value)."""
    batch_model, input_model = _MODELS[object_type]
    body = batch_model(
        inputs=[input_model(id=str(object_id), properties=dict(props)) for object_id, props in updates.items()]
    )
    api = client.api(f"crm.{object_type}.batch_api")
    answer = client.call(api.update, body, operation=f"push.{object_type}.batch_update", expect=results_page)
    updated = {str(r.id) for r in answer.results}
    errors: dict[str, str] = {}
    for error in getattr(answer, "errors", None) or []:
        context = error.context or {}
        message = f"{error.category or 'ERROR'}: {error.message or 'no message'}"
        for raw in context.get("ids") or []:
            errors.setdefault(str(raw), message)
    failed = {}
    for object_id in updates:
        key = str(object_id)
        if key not in updated:
            # A 207 that lists the record under no error's context: still not confirmed, so not pushed.
            failed[object_id] = errors.get(key, "HubSpot did not confirm the update")
    return failed


def missing_property(error: str) -> str | None:
    """The property an error says does not exist in the portal, or None."""
    match = _MISSING.search(error)
    return match.group(1) if match else None
