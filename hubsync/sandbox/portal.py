"""The state of one sandbox portal and every way it can change.

All timestamps are milliseconds since the epoch on the portal's own clock (`Portal.now`), which only moves when
someone advances it: tests decide what "now" is. Callers hold `Portal.lock` around anything that reads several
pieces of state at once; the mutations below take it themselves.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from hubsync.sandbox import schema
from hubsync.sandbox.activity import ColumnLog, Interner
from hubsync.sandbox.catalog import PropertyCatalog
from hubsync.sandbox.records import (
    Associations,
    Campaign,
    CrmObject,
    Form,
    MarketingEvent,
    ObjectStore,
    Owner,
    PortalError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

EMAIL_EVENT_TYPES: tuple[str, ...] = ("OPEN", "CLICK", "BOUNCE", "STATUSCHANGE", "SPAMREPORT", "DELIVERED")
BOUNCE_CATEGORIES: tuple[str, ...] = ("HARD_BOUNCE", "SOFT_BOUNCE")
PARTICIPATION_STATES: tuple[str, ...] = ("REGISTERED", "ATTENDED", "NO_SHOW", "CANCELLED")

MS_PER_DAY = 86_400_000


@dataclass(frozen=True, slots=True)
class PortalChange:
    """A change HubSpot would send a webhook for (`webhooks.py`): `kind` is the event's name after the object type
    ("creation", "propertyChange", "deletion", "restore", "privacyDeletion", "merge", "associationChange")."""

    kind: str
    object_type: str
    object_id: int
    at: int
    details: Mapping[str, object] = field(default_factory=dict)


_MERGE_CHAIN_MAX = 100  # a merge chain is short; the bound stops a cycle in a hand-written snapshot


@dataclass(slots=True)
class Portal:
    """One HubSpot portal's data. Build it with `generator.generate_portal` or `snapshot.load`."""

    now: int
    vendor: str = "leadwerk"
    seed: int | None = None
    portal_id: int = 9_900_001
    tier: str = "enterprise"  # free, starter, professional, enterprise, api_limit_increase (limits.TIERS)
    index_delay_ms: int = 0
    next_id: int = 1001
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    stores: dict[str, ObjectStore] = field(default_factory=lambda: {t: ObjectStore(t) for t in schema.STANDARD_TYPES})
    catalogs: dict[str, PropertyCatalog] = field(
        default_factory=lambda: {t: PropertyCatalog.builtin(t) for t in schema.STANDARD_TYPES}
    )
    assoc: Associations = field(default_factory=Associations)
    merged_into: dict[int, int] = field(default_factory=dict)
    owners: list[Owner] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    marketing_events: list[MarketingEvent] = field(default_factory=list)
    strings: Interner = field(default_factory=Interner)
    page_views: ColumnLog = field(default_factory=lambda: ColumnLog(("ts", "id", "contact", "url")))
    email_events: ColumnLog = field(
        default_factory=lambda: ColumnLog(("ts", "id", "recipient", "type", "campaign", "url", "category"))
    )
    form_submissions: ColumnLog = field(
        default_factory=lambda: ColumnLog(("ts", "id", "form", "contact", "email", "page"))
    )
    participations: ColumnLog = field(default_factory=lambda: ColumnLog(("ts", "id", "event", "contact", "state")))
    # Each contact's hidden persona ("buyer", "researcher", … personas.PERSONAS) by contact id: what the simulated
    # sales team's outcomes follow (sales.py). Kept in snapshots, never served through the HubSpot API.
    intent: dict[int, str] = field(default_factory=dict)
    # Indexes derived from the logs, rebuilt by their users when the logs change; never part of a snapshot.
    cache: dict[str, object] = field(default_factory=dict, repr=False)
    # What search's index still holds of records changed within the index delay: their earlier versions
    # (modified date, properties), oldest first. Only kept while there is a delay; never part of a snapshot.
    indexed: dict[tuple[str, int], list[tuple[int, dict[str, str]]]] = field(default_factory=dict, repr=False)
    # Told of every change as it happens (the webhook sender listens); never part of a snapshot.
    listeners: list[Callable[[PortalChange], None]] = field(default_factory=list, repr=False)

    # ---- reading -------------------------------------------------------------------------------------------

    def store(self, object_type: str) -> ObjectStore:
        resolved = schema.TYPE_ALIASES.get(object_type)
        if resolved is None:
            raise PortalError(f"unknown object type {object_type!r}")
        return self.stores[resolved]

    def resolve_contact(self, contact_id: int) -> int:
        """The id a contact has now: merged-away ids lead to the survivor."""
        seen = 0
        while contact_id in self.merged_into and seen < _MERGE_CHAIN_MAX:
            contact_id = self.merged_into[contact_id]
            seen += 1
        return contact_id

    def owner(self, owner_id: int) -> Owner | None:
        return next((o for o in self.owners if o.id == owner_id), None)

    def form_by(self, key: str) -> Form | None:
        return next((f for f in self.forms if key in (f.guid, f.name)), None)

    def marketing_event(self, key: str) -> MarketingEvent | None:
        return next((e for e in self.marketing_events if key in (str(e.id), e.external_id)), None)

    def take_id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def visible_to_search(self, obj: CrmObject) -> bool:
        return obj.updated <= self.now - self.index_delay_ms

    def search_version(self, object_type: str, obj: CrmObject) -> CrmObject | None:
        """The record as search's index shows it: as it is once its last change is older than the index delay,
        before that as it was before the changes within the delay (HubSpot shows the previous version), and not at
        all when it was created within the delay. A record changed only while no delay was set kept no earlier
        version: it is shown as it is; one whose kept versions are all within the delay, as the oldest of them."""
        if self.visible_to_search(obj):
            return obj
        cutoff = self.now - self.index_delay_ms
        if obj.created > cutoff:
            return None
        versions = self.indexed.get((object_type, obj.id), [])
        if not versions:
            return obj
        earlier = [v for v in versions if v[0] <= cutoff]
        updated, props = earlier[-1] if earlier else versions[0]
        return CrmObject(obj.id, obj.created, updated, props, obj.archived_at)

    def _keep_indexed_version(self, object_type: str, obj: CrmObject) -> None:
        if self.index_delay_ms <= 0:
            return
        versions = self.indexed.setdefault((object_type, obj.id), [])
        cutoff = self.now - self.index_delay_ms
        # Of the versions older than the delay only the newest can still be shown.
        while len(versions) > 1 and versions[1][0] <= cutoff:
            versions.pop(0)
        versions.append((obj.updated, dict(obj.props)))

    # ---- mutations -----------------------------------------------------------------------------------------

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise PortalError("the portal clock never goes back")
        with self.lock:
            self.now += round(seconds * 1000)
            return self.now

    def create(
        self,
        object_type: str,
        props: Mapping[str, str],
        *,
        associations: Iterable[tuple[str, int]] = (),
        at: int | None = None,
        object_id: int | None = None,
    ) -> CrmObject:
        """A new record. `object_id` chooses its id instead of the next free one, e.g. one HubSpot would never give
        (beyond 64 bits) to see what a client makes of it."""
        with self.lock:
            store = self.store(object_type)
            when = self.now if at is None else at
            if object_id is not None and object_id in store.by_id:
                raise PortalError(f"{store.type} {object_id} exists")
            new_id = self.take_id() if object_id is None else object_id
            obj = CrmObject(new_id, when, when, {k: v for k, v in props.items() if v is not None})
            store.add(obj)
            for to_type, to_id in associations:
                self._require(to_type, to_id)
                self.assoc.add(store.type, obj.id, schema.TYPE_ALIASES[to_type], to_id)
            self._changed("creation", store.type, obj.id)
            return obj

    def update(
        self, object_type: str, object_id: int, props: Mapping[str, str | None], *, at: int | None = None
    ) -> CrmObject:
        with self.lock:
            obj = self._require(object_type, object_id)
            self._keep_indexed_version(self.store(object_type).type, obj)
            props = self._with_stage_date(object_type, obj, props, self.now if at is None else at)
            changed = []
            for name, value in props.items():
                if (value or None) != obj.props.get(name):
                    changed.append(name)
                if value is None or value == "":
                    obj.props.pop(name, None)
                else:
                    obj.props[name] = value
            obj.updated = self.now if at is None else at
            for name in changed:
                self._changed(
                    "propertyChange",
                    self.store(object_type).type,
                    obj.id,
                    propertyName=name,
                    propertyValue=props[name] or "",
                )
            return obj

    def _with_stage_date(
        self, object_type: str, obj: CrmObject, props: Mapping[str, str | None], at: int
    ) -> Mapping[str, str | None]:
        """HubSpot stamps `hs_lifecyclestage_<stage>_date` on a contact the first time it enters a stage, however the
        stage was set (the UI, a workflow, an API write such as hubsync's optional lifecycle advance)."""
        stage = props.get("lifecyclestage")
        if self.store(object_type).type != "contacts" or not stage or stage == obj.props.get("lifecyclestage"):
            return props
        stamp = f"hs_lifecyclestage_{stage}_date"
        if stamp in props or obj.props.get(stamp):
            return props
        return {**props, stamp: iso_instant(at)}

    def bulk_update(
        self, object_type: str, ids: Iterable[int], props: Mapping[str, str | None], *, at: int | None = None
    ) -> int:
        """Give many records the same change and one identical modified date (a bulk import, a month-end job)."""
        with self.lock:
            when = self.now if at is None else at
            count = 0
            for object_id in ids:
                self.update(object_type, object_id, props, at=when)
                count += 1
            return count

    def archive(self, object_type: str, object_id: int) -> CrmObject:
        """Archiving leaves the modified date alone, as HubSpot does: only `archivedAt` tells."""
        with self.lock:
            obj = self._require(object_type, object_id)
            self.store(object_type).archive(object_id, self.now)
            self._changed("deletion", self.store(object_type).type, object_id)
            return obj

    def restore(self, object_type: str, object_id: int) -> CrmObject:
        """Bring a record back from the recycle bin. Whether HubSpot moves the modified date then is not
        documented; the sandbox leaves it alone, so only a count of live records can tell."""
        with self.lock:
            obj = self.store(object_type).get(object_id, archived=True)
            if obj is None:
                raise PortalError(f"no archived {object_type} with id {object_id}")
            self.store(object_type).restore(object_id)
            self._changed("restore", self.store(object_type).type, object_id)
            return obj

    def delete_forever(self, object_type: str, object_id: int) -> None:
        """A GDPR deletion, or a record purged from the recycle bin after 90 days: in no list any more, archived
        or not, and no modified date tells."""
        with self.lock:
            self._require(object_type, object_id)
            self.assoc.forget(object_type, object_id)
            self.store(object_type).drop(object_id)
            self._changed("privacyDeletion", self.store(object_type).type, object_id)

    def merge(self, survivor_id: int, merged_id: int) -> CrmObject:
        """Merge contact `merged_id` into `survivor_id`, which records the old id in `hs_merged_object_ids`."""
        with self.lock:
            survivor = self._require(schema.CONTACTS, survivor_id)
            merged = self._require(schema.CONTACTS, merged_id)
            if survivor_id == merged_id:
                raise PortalError("a contact cannot be merged into itself")
            old = [x for x in survivor.props.get("hs_merged_object_ids", "").split(";") if x]
            old += [str(merged_id), *[x for x in merged.props.get("hs_merged_object_ids", "").split(";") if x]]
            self._keep_indexed_version(schema.CONTACTS, survivor)
            for name, value in merged.props.items():
                survivor.props.setdefault(name, value)
            survivor.props["hs_merged_object_ids"] = ";".join(old)
            survivor.updated = self.now
            self.assoc.move(schema.CONTACTS, merged_id, survivor_id)
            self.stores[schema.CONTACTS].drop(merged_id)
            self.merged_into[merged_id] = survivor_id
            self._changed(
                "merge", schema.CONTACTS, survivor_id, primaryObjectId=survivor_id, mergedObjectIds=[merged_id]
            )
            return survivor

    def associate(self, a_type: str, a_id: int, b_type: str, b_id: int, *, primary: bool = False) -> None:
        """Link two records without touching either one's modified date (HubSpot does not touch it either)."""
        with self.lock:
            self._require(a_type, a_id)
            self._require(b_type, b_id)
            self.assoc.add(schema.TYPE_ALIASES[a_type], a_id, schema.TYPE_ALIASES[b_type], b_id, primary=primary)
            self._associated(a_type, a_id, b_type, b_id, removed=False, primary=primary)

    def dissociate(self, a_type: str, a_id: int, b_type: str, b_id: int) -> None:
        with self.lock:
            self.assoc.remove(schema.TYPE_ALIASES[a_type], a_id, schema.TYPE_ALIASES[b_type], b_id)
            self._associated(a_type, a_id, b_type, b_id, removed=True, primary=False)

    def add_page_view(self, contact_id: int, url: str, *, at: int | None = None) -> int:
        with self.lock:
            self._require(schema.CONTACTS, contact_id)
            row_id = self.take_id()
            self.page_views.add((self._at(at), row_id, contact_id, self.strings.id(url)))
            return row_id

    def add_email_event(
        self,
        recipient: str,
        event_type: str,
        *,
        campaign_id: int | None = None,
        url: str | None = None,
        category: str | None = None,
        at: int | None = None,
    ) -> int:
        with self.lock:
            if event_type not in EMAIL_EVENT_TYPES:
                raise PortalError(f"email event type must be one of {EMAIL_EVENT_TYPES}")
            campaign = campaign_id if campaign_id is not None else (self.campaigns[-1].id if self.campaigns else 0)
            cat = -1 if category is None else BOUNCE_CATEGORIES.index(category)
            row_id = self.take_id()
            url_id = -1 if url is None else self.strings.id(url)
            row = (
                self._at(at),
                row_id,
                self.strings.id(recipient),
                EMAIL_EVENT_TYPES.index(event_type),
                campaign,
                url_id,
                cat,
            )
            self.email_events.add(row)
            return row_id

    def add_form_submission(self, contact_id: int, form: str, *, page_url: str, at: int | None = None) -> int:
        with self.lock:
            contact = self._require(schema.CONTACTS, contact_id)
            found = self.form_by(form)
            if found is None:
                raise PortalError(f"no form {form!r}")
            row_id = self.take_id()
            email = self.strings.id(contact.props.get("email", ""))
            form_index = self.forms.index(found)
            when = self._at(at)
            self.form_submissions.add((when, row_id, form_index, contact_id, email, self.strings.id(page_url)))
            # HubSpot stamps the contact on every submission, which also moves its modified date: an incremental
            # sync learns of new submissions from it.
            self._keep_indexed_version(schema.CONTACTS, contact)
            previous = contact.props.get("recent_conversion_date")
            if previous is None or _epoch_ms(previous) <= when:
                contact.props["recent_conversion_date"] = iso_instant(when)
                contact.props["recent_conversion_event_name"] = found.name
                for name in ("recent_conversion_date", "recent_conversion_event_name"):
                    self._changed(
                        "propertyChange",
                        schema.CONTACTS,
                        contact_id,
                        propertyName=name,
                        propertyValue=contact.props[name],
                    )
            contact.updated = max(contact.updated, when)
            return row_id

    def add_participation(self, contact_id: int, event: str, state: str, *, at: int | None = None) -> int:
        with self.lock:
            self._require(schema.CONTACTS, contact_id)
            found = self.marketing_event(event)
            if found is None:
                raise PortalError(f"no marketing event {event!r}")
            row_id = self.take_id()
            index = self.marketing_events.index(found)
            self.participations.add((self._at(at), row_id, index, contact_id, PARTICIPATION_STATES.index(state)))
            return row_id

    def _changed(self, kind: str, object_type: str, object_id: int, **details: object) -> None:
        for listener in self.listeners:
            listener(PortalChange(kind, object_type, object_id, self.now, details))

    def _associated(self, a_type: str, a_id: int, b_type: str, b_id: int, *, removed: bool, primary: bool) -> None:
        """An association change is told from both ends, as HubSpot sends it to each object's subscription."""
        a, b = schema.TYPE_ALIASES[a_type], schema.TYPE_ALIASES[b_type]
        names = {a: schema.SINGULAR.get(a, a).upper(), b: schema.SINGULAR.get(b, b).upper()}
        for (from_type, from_id), (to_type, to_id) in (((a, a_id), (b, b_id)), ((b, b_id), (a, a_id))):
            self._changed(
                "associationChange",
                from_type,
                from_id,
                fromObjectId=from_id,
                toObjectId=to_id,
                associationType=f"{names[from_type]}_TO_{names[to_type]}",
                associationRemoved=removed,
                isPrimaryAssociation=primary,
            )

    def _at(self, at: int | None) -> int:
        return self.now if at is None else at

    def _require(self, object_type: str, object_id: int) -> CrmObject:
        obj = self.store(object_type).get(object_id)
        if obj is None:
            raise PortalError(f"no live {object_type} with id {object_id}")
        return obj


def iso_instant(ms: int) -> str:
    """HubSpot's ISO form of an epoch-milliseconds instant: 2026-03-31T12:00:00.000Z."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _epoch_ms(value: str) -> int:
    return round(datetime.fromisoformat(value).timestamp() * 1000)
