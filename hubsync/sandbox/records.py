"""What a sandbox portal holds: CRM records, owners, forms, email campaigns and marketing events, and the two
stores that index CRM records (live and archived ids, sorted for paging) and the links between them."""

from __future__ import annotations

from bisect import bisect_right, insort
from dataclasses import dataclass

from hubsync.sandbox import schema


class PortalError(ValueError):
    """A mutation that the portal refuses (unknown id, unknown type, …)."""


@dataclass(slots=True, eq=False)
class CrmObject:
    id: int
    created: int
    updated: int
    props: dict[str, str]
    archived_at: int | None = None


@dataclass(slots=True)
class Owner:
    id: int
    user_id: int
    email: str
    first_name: str
    last_name: str
    created: int
    updated: int
    archived: bool = False
    team: str = "Vertrieb"


@dataclass(slots=True)
class Form:
    guid: str
    name: str
    created: int
    updated: int
    archived: bool = False


@dataclass(slots=True)
class Campaign:
    id: int
    name: str
    subject: str
    sent: int


@dataclass(slots=True)
class MarketingEvent:
    id: int
    external_id: str
    name: str
    start: int
    end: int
    created: int
    updated: int
    event_type: str = "WEBINAR"
    organizer: str = ""


class ObjectStore:
    """Records of one object type; ids of live and of archived records are kept sorted for paging."""

    __slots__ = ("archived", "by_id", "live", "type")

    def __init__(self, object_type: str) -> None:
        self.type = object_type
        self.by_id: dict[int, CrmObject] = {}
        self.live: list[int] = []
        self.archived: list[int] = []

    def add(self, obj: CrmObject) -> None:
        self.by_id[obj.id] = obj
        target = self.live if obj.archived_at is None else self.archived
        if not target or target[-1] < obj.id:
            target.append(obj.id)
        else:
            insort(target, obj.id)

    def get(self, object_id: int, *, archived: bool = False) -> CrmObject | None:
        obj = self.by_id.get(object_id)
        if obj is None or (obj.archived_at is not None) != archived:
            return None
        return obj

    def archive(self, object_id: int, at: int) -> None:
        obj = self.by_id[object_id]
        obj.archived_at = at
        self.live.pop(bisect_right(self.live, object_id) - 1)
        insort(self.archived, object_id)

    def restore(self, object_id: int) -> None:
        self.by_id[object_id].archived_at = None
        self.archived.pop(bisect_right(self.archived, object_id) - 1)
        insort(self.live, object_id)

    def drop(self, object_id: int) -> None:
        """Remove a record completely (a merged-away contact)."""
        obj = self.by_id.pop(object_id)
        ids = self.live if obj.archived_at is None else self.archived
        ids.pop(bisect_right(ids, object_id) - 1)

    def page(self, after: int, limit: int, *, archived: bool) -> tuple[list[CrmObject], int | None]:
        """Records with id >= after, and the `after` of the next page (None on the last page)."""
        ids = self.archived if archived else self.live
        start = bisect_right(ids, after - 1)
        chunk = ids[start : start + limit + 1]
        following = chunk[limit] if len(chunk) > limit else None
        return [self.by_id[i] for i in chunk[:limit]], following


class Associations:
    """Links between records; each is stored in both directions. A primary company is a label on a link."""

    __slots__ = ("links", "primary")

    def __init__(self) -> None:
        self.links: dict[tuple[str, str], dict[int, list[int]]] = {pair: {} for pair in schema.ASSOCIATION_TYPES}
        # A record's primary company, kept on the side that owns it (contact -> company, deal -> company).
        self.primary: dict[tuple[str, str], dict[int, int]] = {pair: {} for pair in schema.PRIMARY_PAIRS}

    def add(self, a_type: str, a_id: int, b_type: str, b_id: int, *, primary: bool = False) -> None:
        if (a_type, b_type) not in self.links:
            raise PortalError(f"{a_type} cannot be associated with {b_type}")
        for x_type, x_id, y_type, y_id in ((a_type, a_id, b_type, b_id), (b_type, b_id, a_type, a_id)):
            targets = self.links[(x_type, y_type)].setdefault(x_id, [])
            if y_id not in targets:
                targets.append(y_id)
        if primary and (a_type, b_type) in self.primary:
            self.primary[(a_type, b_type)][a_id] = b_id
        elif primary and (b_type, a_type) in self.primary:
            self.primary[(b_type, a_type)][b_id] = a_id

    def remove(self, a_type: str, a_id: int, b_type: str, b_id: int) -> None:
        for x_type, x_id, y_type, y_id in ((a_type, a_id, b_type, b_id), (b_type, b_id, a_type, a_id)):
            targets = self.links[(x_type, y_type)].get(x_id, [])
            if y_id in targets:
                targets.remove(y_id)
            primaries = self.primary.get((x_type, y_type), {})
            if primaries.get(x_id) == y_id:
                del primaries[x_id]

    def of(self, a_type: str, a_id: int, b_type: str) -> list[int]:
        return self.links.get((a_type, b_type), {}).get(a_id, [])

    def is_primary(self, a_type: str, a_id: int, b_type: str, b_id: int) -> bool:
        if (a_type, b_type) in self.primary:
            return self.primary[(a_type, b_type)].get(a_id) == b_id
        if (b_type, a_type) in self.primary:
            return self.primary[(b_type, a_type)].get(b_id) == a_id
        return False

    def type_ids(self, a_type: str, a_id: int, b_type: str, b_id: int) -> list[tuple[int, str | None]]:
        unlabeled, primary = schema.ASSOCIATION_TYPES[(a_type, b_type)]
        out: list[tuple[int, str | None]] = []
        if primary is not None and self.is_primary(a_type, a_id, b_type, b_id):
            out.append((primary, "Primary"))
        out.append((unlabeled, None))
        return out

    def forget(self, object_type: str, object_id: int) -> None:
        """Drop every link of a record (one deleted for good)."""
        for a_type, b_type in list(self.links):
            if a_type == object_type:
                for other in list(self.of(a_type, object_id, b_type)):
                    self.remove(a_type, object_id, b_type, other)

    def move(self, object_type: str, old: int, new: int) -> None:
        for a_type, b_type in list(self.links):
            if a_type != object_type:
                continue
            for other in list(self.of(a_type, old, b_type)):
                # The survivor keeps its own primary company; the merged contact's becomes one only if it had none.
                was_primary = self.is_primary(a_type, old, b_type, other) and (
                    new not in self.primary.get((a_type, b_type), {})
                )
                self.remove(a_type, old, b_type, other)
                self.add(a_type, new, b_type, other, primary=was_primary)
