"""HubSpot JSON (or the SDK's model objects) → hubsync records: CRM objects and associations. Pure, no I/O.

Every mapper accepts a plain dict as HubSpot sends it or an SDK model (converted with `to_dict(serialize=True)`,
which gives the same camelCase keys). Odd values never raise: an unparseable optional value becomes None, and a
record that cannot be used at all (no id, no time, no known contact) comes back as a `Skip` naming the reason, so
the caller can count and log skips instead of losing the page.

Activities (page views, email events, forms, webinars, CRM engagements) are mapped in `activity_mapping.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hubsync.hubspot.values import (
    Skip,
    as_json,
    created_at,
    id_text,
    nested,
    parse_id,
    parse_timestamp,
    properties_of,
    text,
)
from hubsync.records import Association, Company, Contact, Deal, Owner

# Lifecycle stages whose entry date HubSpot keeps on the contact, by the names hubsync's outcomes use.
LIFECYCLE_DATE_PROPERTIES: Final = {
    "lead": "hs_lifecyclestage_lead_date",
    "mql": "hs_lifecyclestage_marketingqualifiedlead_date",
    "sql": "hs_lifecyclestage_salesqualifiedlead_date",
    "opportunity": "hs_lifecyclestage_opportunity_date",
    "customer": "hs_lifecyclestage_customer_date",
}

# -- CRM objects ----------------------------------------------------------------------------------------------


def contact_from_hubspot(raw: Any) -> Contact | Skip:
    obj = as_json(raw)
    contact_id = parse_id(obj.get("id"))
    if contact_id is None:
        return Skip("contact without a numeric id", id_text(obj))
    props = properties_of(obj)
    return Contact(
        id=contact_id,
        email=text(props.get("email")),
        firstname=text(props.get("firstname")),
        lastname=text(props.get("lastname")),
        jobtitle=text(props.get("jobtitle")),
        country=text(props.get("country")),
        lifecyclestage=text(props.get("lifecyclestage")),
        owner_id=parse_id(props.get("hubspot_owner_id")),
        company_id=parse_id(props.get("associatedcompanyid")),
        created_at=created_at(obj, props),
        updated_at=parse_timestamp(props.get("lastmodifieddate")) or parse_timestamp(obj.get("updatedAt")),
        properties=props,
    )


def lifecycle_dates(properties: Mapping[str, str]) -> dict[str, datetime]:
    """Stage ("lead", "mql", "sql", "opportunity", "customer") → when the contact entered it, from its properties as
    pulled; stages never entered (or with an unreadable date) are left out."""
    found = {stage: parse_timestamp(properties.get(name)) for stage, name in LIFECYCLE_DATE_PROPERTIES.items()}
    return {stage: at for stage, at in found.items() if at is not None}


def company_from_hubspot(raw: Any) -> Company | Skip:
    obj = as_json(raw)
    company_id = parse_id(obj.get("id"))
    if company_id is None:
        return Skip("company without a numeric id", id_text(obj))
    props = properties_of(obj)
    return Company(
        id=company_id,
        name=text(props.get("name")),
        domain=text(props.get("domain")),
        industry=text(props.get("industry")),
        # Raw strings on purpose ("1,000", "50-100"): scoring parses them.
        numberofemployees=text(props.get("numberofemployees")),
        annualrevenue=text(props.get("annualrevenue")),
        country=text(props.get("country")),
        owner_id=parse_id(props.get("hubspot_owner_id")),
        created_at=created_at(obj, props),
        updated_at=parse_timestamp(props.get("hs_lastmodifieddate")) or parse_timestamp(obj.get("updatedAt")),
        properties=props,
    )


def owner_from_hubspot(raw: Any) -> Owner | Skip:
    """An owner from `/crm/v3/owners` (`firstName`, `lastName`, `userId`, `archived`)."""
    obj = as_json(raw)
    owner_id = parse_id(obj.get("id"))
    if owner_id is None:
        return Skip("owner without a numeric id", id_text(obj))
    return Owner(
        id=owner_id,
        email=text(obj.get("email")),
        firstname=text(obj.get("firstName")),
        lastname=text(obj.get("lastName")),
        user_id=parse_id(obj.get("userId")),
        archived=obj.get("archived") is True,
    )


def deal_from_hubspot(raw: Any) -> Deal | Skip:
    obj = as_json(raw)
    deal_id = parse_id(obj.get("id"))
    if deal_id is None:
        return Skip("deal without a numeric id", id_text(obj))
    props = properties_of(obj)
    return Deal(
        id=deal_id,
        name=text(props.get("dealname")),
        pipeline=text(props.get("pipeline")),
        stage=text(props.get("dealstage")),
        amount=text(props.get("amount")),
        closed_won=_closed_won(props),
        close_date=parse_timestamp(props.get("closedate")),
        owner_id=parse_id(props.get("hubspot_owner_id")),
        created_at=created_at(obj, props),
        updated_at=parse_timestamp(props.get("hs_lastmodifieddate")) or parse_timestamp(obj.get("updatedAt")),
    )


def _closed_won(props: Mapping[str, str]) -> bool | None:
    """True won, False lost, None still open (or unknown)."""
    stage = (props.get("dealstage") or "").strip().lower()
    if stage == "closedwon":
        return True
    if stage == "closedlost":
        return False
    # Custom pipelines have their own stage ids; HubSpot's calculated flags say what they mean.
    won = _flag(props.get("hs_is_closed_won"))
    if won:
        return True
    if won is False and _flag(props.get("hs_is_closed")):
        return False
    return None


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    if text == "true":
        return True
    if text == "false":
        return False
    return None


def associations_from_batch_result(raw: Any, *, from_type: str, to_type: str) -> list[Association | Skip]:
    """Associations from one result of `POST /crm/v4/associations/{from}/{to}/batch/read`:
    `{"from": {"id"}, "to": [{"toObjectId", "associationTypes": [{"category", "typeId", "label"}]}]}`."""
    obj = as_json(raw)
    from_id = parse_id(nested(obj, "from", "id"))
    if from_id is None:
        return [Skip(f"{from_type} association result without a numeric from id")]
    out: list[Association | Skip] = []
    targets = obj.get("to")
    for target in targets if isinstance(targets, list) else []:
        target_obj = as_json(target)
        to_id = parse_id(target_obj.get("toObjectId"))
        if to_id is None:
            out.append(Skip(f"{from_type}→{to_type} association without a numeric target id", str(from_id)))
            continue
        types = target_obj.get("associationTypes")
        for spec in types if isinstance(types, list) else []:
            spec_obj = as_json(spec)
            type_id = parse_id(spec_obj.get("typeId"))
            if type_id is None:
                out.append(Skip(f"{from_type}→{to_type} association without a type id", f"{from_id}→{to_id}"))
                continue
            out.append(
                Association(
                    from_type=from_type,
                    from_id=from_id,
                    to_type=to_type,
                    to_id=to_id,
                    type_id=type_id,
                    label=text(spec_obj.get("label")),
                )
            )
    return out
