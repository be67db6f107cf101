"""hubsync's own CRM properties: what each holds (`Prop`), their definitions as `hubsync setup` creates them, and
the values push writes into them from the stored scores (plus the lifecycle stage rule). Shared by the setup and
push use cases; pure.

No property holds a timestamp that changes every run, and no text counts days (scoring/reasons.py): either would
make records differ from the last push without anything having happened, and every write makes HubSpot send the
record back on the next pull. What does change on an idle day is listed in docs/scoring.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from hubsync.hubspot.properties import BOOL_OPTIONS, COMPANIES, CONTACTS, PropertyDefinition
from hubsync.scoring import FitLight, LeadStatus, Tier
from hubsync.scoring.segments import SEGMENTS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from hubsync.settings import PushConfig

LIFECYCLE: Final = "lifecyclestage"
# HubSpot's default lifecycle stages in order; hubsync only ever moves a contact forward along them.
LIFECYCLE_ORDER: Final = (
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
)
_LIFECYCLE_TARGET: Final = {LeadStatus.MQL: "marketingqualifiedlead", LeadStatus.SALES_READY: "salesqualifiedlead"}


class Prop(StrEnum):
    """What each hubsync property holds; the property name is the configured prefix + the value."""

    ENGAGEMENT = "engagement_score"
    PROFILE = "profile_score"
    COMPLETENESS = "data_completeness"
    SEGMENT = "segment"
    LEAD_STATUS = "lead_status"
    FIT_LIGHT = "fit_light"
    TIER = "tier"
    SURGE = "surge"
    REASON = "reason"
    ACCOUNT_ENGAGEMENT = "account_engagement"
    ACCOUNT_PROFILE = "account_profile"
    ACCOUNT_SEGMENT = "account_segment"
    BUYING_CENTER_ACTIVE = "buying_center_active"
    ENGAGED_CONTACTS = "engaged_contacts"
    ACCOUNT_REASON = "account_reason"


@dataclass(frozen=True, slots=True, kw_only=True)
class HubsyncProperty(PropertyDefinition):
    """A hubsync property: HubSpot's definition, and what it holds."""

    prop: Prop


# -- definitions ----------------------------------------------------------------------------------------------


def _labelled(values: Iterable[str], labels: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    return tuple((v, (labels or {}).get(v, v.replace("_", " ").capitalize())) for v in values)


_STATUS_LABELS: Final = {"nurture": "Nurture", "mql": "MQL (marketing qualified)", "sales_ready": "Sales ready"}
_TIER_LABELS: Final = {"mid_market": "Mid-market", "smb": "SMB", "enterprise": "Enterprise", "unknown": "Unknown"}
_SCALE: Final = "0-100, recomputed by hubsync on every sync; do not edit (hubsync overwrites it)."

# (object type, field, label, description, type, field type, options)
_SPECS: Final[tuple[tuple[str, Prop, str, str, str, str, tuple[tuple[str, str], ...]], ...]] = (
    (CONTACTS, Prop.ENGAGEMENT, "Engagement score",
     (f"How actively this person is moving toward a purchase now (visits, downloads, webinars, requests), with "
      f"older activity counting less. {_SCALE}"), "number", "number", ()),
    (CONTACTS, Prop.PROFILE, "Profile (fit) score",
     f"How well this person and their company fit the ideal customer profile (size, industry, role). {_SCALE}",
     "number", "number", ()),
    (CONTACTS, Prop.COMPLETENESS, "Data completeness (%)",
     "Share of the profile rules whose property is filled in; a low value means the profile score may be too low.",
     "number", "number", ()),
    (CONTACTS, Prop.SEGMENT, "Lead segment",
     "Profile letter (A best fit … D) and engagement digit (1 most engaged … 4). A1, A2 and B1 go to sales.",
     "enumeration", "select", _labelled(SEGMENTS)),
    (CONTACTS, Prop.LEAD_STATUS, "Lead status (hubsync)",
     "nurture (0-30), MQL (31-70) or sales ready (71+) on the engagement score.",
     "enumeration", "select", _labelled((s.value for s in LeadStatus), _STATUS_LABELS)),
    (CONTACTS, Prop.FIT_LIGHT, "ICP fit light",
     "Ideal customer profile fit: red (below 50), yellow (50-79), green (80+). Red leads are not handed to sales.",
     "enumeration", "select", _labelled(f.value for f in FitLight)),
    (CONTACTS, Prop.TIER, "ICP tier",
     "Company size class: SMB (under 200 employees), mid-market (200-999), enterprise (1,000+), unknown.",
     "enumeration", "select", _labelled((t.value for t in Tier), _TIER_LABELS)),
    (CONTACTS, Prop.SURGE, "Activity surge",
     "Checked when this person's activity in the last week jumped well above their usual level.",
     "bool", "booleancheckbox", BOOL_OPTIONS),
    (CONTACTS, Prop.REASON, "Score reason",
     "Why the scores are what they are, largest contributions first. The sales task has the dated history.",
     "string", "textarea", ()),
    (COMPANIES, Prop.ACCOUNT_ENGAGEMENT, "Account engagement score",
     f"The most engaged contact at this company, plus points for every further engaged contact. {_SCALE}",
     "number", "number", ()),
    (COMPANIES, Prop.ACCOUNT_PROFILE, "Account profile (fit) score",
     f"How well this company fits the ideal customer profile (size, industry, region). {_SCALE}",
     "number", "number", ()),
    (COMPANIES, Prop.COMPLETENESS, "Data completeness (%)",
     "Share of the company profile rules whose property is filled in.",
     "number", "number", ()),
    (COMPANIES, Prop.ACCOUNT_SEGMENT, "Account segment",
     "Profile letter (A best fit … D) and account engagement digit (1 most engaged … 4).",
     "enumeration", "select", _labelled(SEGMENTS)),
    (COMPANIES, Prop.FIT_LIGHT, "ICP fit light",
     "Ideal customer profile fit: red (below 50), yellow (50-79), green (80+).",
     "enumeration", "select", _labelled(f.value for f in FitLight)),
    (COMPANIES, Prop.TIER, "ICP tier",
     "Company size class: SMB (under 200 employees), mid-market (200-999), enterprise (1,000+), unknown.",
     "enumeration", "select", _labelled((t.value for t in Tier), _TIER_LABELS)),
    (COMPANIES, Prop.BUYING_CENTER_ACTIVE, "Buying center active",
     "Checked when several people from this company were active recently: a strong buying signal.",
     "bool", "booleancheckbox", BOOL_OPTIONS),
    (COMPANIES, Prop.ENGAGED_CONTACTS, "Engaged contacts",
     "Number of contacts at this company whose engagement score is at least MQL level.",
     "number", "number", ()),
    (COMPANIES, Prop.ACCOUNT_REASON, "Account score reason",
     "Why the account scores are what they are, including which buying-center roles are not engaged yet.",
     "string", "textarea", ()),
)  # fmt: skip


def definitions(config: PushConfig) -> tuple[HubsyncProperty, ...]:
    """Every hubsync property, named with the configured prefix, in the configured group."""
    return tuple(
        HubsyncProperty(
            object_type=object_type,
            prop=fld,
            name=config.property_prefix + fld.value,
            label=f"{label} (hubsync)",
            description=description,
            type=kind,
            field_type=field_type,
            group=config.property_group,
            options=options,
            display_order=i,
        )
        for i, (object_type, fld, label, description, kind, field_type, options) in enumerate(_SPECS)
    )


def property_names(config: PushConfig, object_type: str) -> dict[Prop, str]:
    return {d.prop: d.name for d in definitions(config) if d.object_type == object_type}


# -- values ---------------------------------------------------------------------------------------------------


def _number(value: float) -> str:
    return str(round(value))


def _flag(value: bool) -> str:
    return "true" if value else "false"


def contact_values(row: Mapping[Any, Any], names: Mapping[Prop, str]) -> dict[str, str]:
    """The hubsync properties of a contact from its `contact_score` row, as the strings HubSpot stores."""
    return {
        names[Prop.ENGAGEMENT]: _number(row["engagement"]),
        names[Prop.PROFILE]: _number(row["profile"]),
        names[Prop.COMPLETENESS]: _number(row["completeness"]),
        names[Prop.SEGMENT]: str(row["segment"]),
        names[Prop.LEAD_STATUS]: str(row["status"]),
        names[Prop.FIT_LIGHT]: str(row["fit_light"]),
        names[Prop.TIER]: str(row["tier"]),
        names[Prop.SURGE]: _flag(bool(row["surge"])),
        names[Prop.REASON]: str(row["reason"]),
    }


def company_values(row: Mapping[Any, Any], names: Mapping[Prop, str]) -> dict[str, str]:
    """The hubsync properties of a company from its `company_score` row."""
    return {
        names[Prop.ACCOUNT_ENGAGEMENT]: _number(row["engagement"]),
        names[Prop.ACCOUNT_PROFILE]: _number(row["profile"]),
        names[Prop.COMPLETENESS]: _number(row["completeness"]),
        names[Prop.ACCOUNT_SEGMENT]: str(row["segment"]),
        names[Prop.FIT_LIGHT]: str(row["fit_light"]),
        names[Prop.TIER]: str(row["tier"]),
        names[Prop.BUYING_CENTER_ACTIVE]: _flag(bool(row["buying_center_active"])),
        names[Prop.ENGAGED_CONTACTS]: _number(row["engaged_contacts"]),
        names[Prop.ACCOUNT_REASON]: str(row["reason"]),
    }


def lifecycle_advance(status: str, current: str | None) -> str | None:
    """The stage to move a contact to (marketingqualifiedlead for an MQL, salesqualifiedlead when sales ready), or
    None: never backward, and never away from a stage hubsync cannot place in the order (a custom one, "other")."""
    try:
        target = _LIFECYCLE_TARGET.get(LeadStatus(status))
    except ValueError:
        return None
    if target is None:
        return None
    if not current:
        return target
    if current not in LIFECYCLE_ORDER:
        return None
    return target if LIFECYCLE_ORDER.index(target) > LIFECYCLE_ORDER.index(current) else None
