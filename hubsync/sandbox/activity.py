"""Compact, column-wise storage for the millions of web and email events a portal holds.

A portal with 100,000 contacts holds about two million activities: one dict per activity would cost gigabytes
and most of the generation time, so rows are tuples of ints kept in one `array` per column, sorted by time, and
strings (urls, recipients) are interned once.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence


class Interner:
    """Each distinct string once; rows refer to it by index."""

    __slots__ = ("_index", "values")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}
        for v in values:
            self.id(v)

    def id(self, value: str) -> int:
        found = self._index.get(value)
        if found is None:
            found = len(self.values)
            self.values.append(value)
            self._index[value] = found
        return found

    def find(self, value: str) -> int | None:
        return self._index.get(value)

    def __getitem__(self, i: int) -> str:
        return self.values[i]


class ColumnLog:
    """Rows of ints in time order; column 0 is the time (ms since the epoch), column 1 a unique row id."""

    __slots__ = ("columns", "data")

    def __init__(self, columns: Sequence[str]) -> None:
        if tuple(columns[:2]) != ("ts", "id"):
            raise ValueError("a ColumnLog starts with the columns ts and id")
        self.columns = tuple(columns)
        self.data: list[array[int]] = [array("q") for _ in self.columns]

    def __len__(self) -> int:
        return len(self.data[0])

    def col(self, name: str) -> array[int]:
        return self.data[self.columns.index(name)]

    def load(self, rows: list[tuple[int, ...]]) -> None:
        """Replace the content with `rows`, sorted by time (ties keep their given order)."""
        rows.sort(key=_first)
        if rows:
            self.data = [array("q", column) for column in zip(*rows, strict=True)]
        else:
            self.data = [array("q") for _ in self.columns]

    def add(self, row: tuple[int, ...]) -> None:
        if len(row) != len(self.columns):
            raise ValueError(f"row needs {len(self.columns)} columns")
        at = bisect_right(self.data[0], row[0])
        if at == len(self):
            for column, value in zip(self.data, row, strict=True):
                column.append(value)
        else:
            for column, value in zip(self.data, row, strict=True):
                column.insert(at, value)

    def row(self, i: int) -> tuple[int, ...]:
        return tuple(column[i] for column in self.data)

    def rows(self) -> Iterable[tuple[int, ...]]:
        return zip(*self.data, strict=True)

    def between(self, start: int | None, end: int | None) -> range:
        """Indices of rows with start <= ts <= end (either bound open when None)."""
        ts = self.data[0]
        lo = 0 if start is None else bisect_left(ts, start)
        hi = len(ts) if end is None else bisect_right(ts, end)
        return range(lo, max(lo, hi))


def _first(row: tuple[int, ...]) -> int:
    return row[0]
