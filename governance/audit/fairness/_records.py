"""Result records made from arrays in bulk, after the numbers were checked once as arrays.

An audit of 2,500 intersection cells holds some 250,000 small records (estimates, counts, comparisons).
Validating each one again field by field cost more than all the arithmetic, so the numbers are checked as
whole arrays here (finite floats or None, plain ints and strings) and each record is made the way pydantic's
``model_construct`` makes it, without its per-call field lookups. The containers (``AttributeResult``,
``FairnessResult``) are still validated once, by pydantic, when the result is assembled.

Making the records still cost a third of the computation and most of its memory, so an attribute keeps its
groups and comparisons as the arrays below (``GroupColumns``, ``ComparisonBlock``) and makes their records
only when they are first read or written (``AttributeResult.with_records_later``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from pydantic import BaseModel

from governance.intervals import Interval
from governance.results.common import Estimate
from governance.results.fairness import Comparison, GroupResult, LL144Row, RateCount, Spread

Model = TypeVar("Model", bound=BaseModel)
# The slots every pydantic model fills in model_construct, set through their descriptors directly.
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class Maker(Generic[Model]):
    """Makes records of one pydantic class from values that are already what its fields hold."""

    def __init__(self, cls: type[Model]) -> None:
        config_allows_extra = cls.model_config.get("extra") == "allow"
        if cls.__pydantic_post_init__ or cls.__pydantic_root_model__ or config_allows_extra:
            raise TypeError(f"{cls.__name__} needs pydantic's own construction")  # pragma: no cover
        if not cls.model_config.get("frozen"):
            raise TypeError(f"{cls.__name__} is not frozen: its records cannot share one set of field names")
        self.cls = cls
        self.fields = tuple(cls.model_fields)
        # Every record names every field; a frozen record never changes this set (a copy gets its own),
        # so all records share one: 216 bytes less each, 50 MB for an audit of 2,500 cells.
        self.fields_set = set(self.fields)

    def one(self, values: dict[str, Any]) -> Model:
        """One record; ``values`` names every field, in the class's order."""
        record = self.cls.__new__(self.cls)
        _set_dict(record, values)
        _set_fields_set(record, self.fields_set)
        _set_extra(record, None)
        _set_private(record, None)
        return record

    def many(self, columns: Sequence[Sequence[Any]]) -> list[Model]:
        """One record per row of ``columns`` (one column per field, in the class's order)."""
        if len(columns) != len(self.fields):
            raise TypeError(f"{self.cls.__name__} has {len(self.fields)} fields, not {len(columns)}")
        fields, fields_set, cls = self.fields, self.fields_set, self.cls
        out: list[Model] = []
        for row in zip(*columns, strict=True):
            record = cls.__new__(cls)
            _set_dict(record, dict(zip(fields, row, strict=True)))
            _set_fields_set(record, fields_set)
            _set_extra(record, None)
            _set_private(record, None)
            out.append(record)
        return out


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector while records are made (they hold no cycles; counting frees them).

    Each run of the collector walks every object alive, and making a quarter of a million records triggers
    it hundreds of times: that tripled the cost of making them.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


ESTIMATE = Maker(Estimate)
RATE_COUNT = Maker(RateCount)
COMPARISON = Maker(Comparison)
GROUP = Maker(GroupResult)
SPREAD = Maker(Spread)
LL144_ROW = Maker(LL144Row)


def numbers(values: np.ndarray, keep: np.ndarray | None = None) -> list[float | None]:
    """Floats as Python numbers, None where not finite (or where ``keep`` is False)."""
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    ok = np.isfinite(array) if keep is None else np.isfinite(array) & keep
    out = array.astype(object)
    out[~ok] = None
    return list(out.tolist())


def estimates(interval: Interval) -> list[Estimate]:
    """One Estimate per value: undefined (NaN) values have no interval either, as ``Estimate`` reads them."""
    point = np.asarray(interval.point, dtype=np.float64).reshape(-1)
    defined = np.isfinite(point)
    return ESTIMATE.many(
        [
            numbers(point),
            numbers(np.broadcast_to(interval.low, point.shape), defined),
            numbers(np.broadcast_to(interval.high, point.shape), defined),
        ]
    )


def _cut(interval: Interval, part: slice) -> Interval:
    """The values of a slice of the groups (ends given as one number are repeated)."""
    point = np.asarray(interval.point, dtype=np.float64).reshape(-1)
    low, high = (np.broadcast_to(end, point.shape)[part] for end in (interval.low, interval.high))
    return Interval(point[part], low, high)


@dataclass(frozen=True)
class ComparisonBlock:
    """One metric's comparisons of many groups with one reference, kept as arrays until records are needed."""

    metric: str
    groups: list[str]
    reference: str
    difference: Interval
    ratio: Interval
    p_values: np.ndarray | None = None
    p_holm: np.ndarray | None = None

    def part(self, part: slice) -> ComparisonBlock:
        """The comparisons of a slice of the groups."""

        def cut(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else np.asarray(values)[part]

        return ComparisonBlock(
            metric=self.metric,
            groups=self.groups[part],
            reference=self.reference,
            difference=_cut(self.difference, part),
            ratio=_cut(self.ratio, part),
            p_values=cut(self.p_values),
            p_holm=cut(self.p_holm),
        )

    def records(self) -> list[Comparison]:
        size = len(self.groups)
        none = [None] * size
        return COMPARISON.many(
            [
                [self.metric] * size,
                self.groups,
                [self.reference] * size,
                estimates(self.difference),
                estimates(self.ratio),
                none if self.p_values is None else numbers(self.p_values),
                none if self.p_holm is None else numbers(self.p_holm),
            ]
        )


def comparison_records(blocks: Sequence[ComparisonBlock]) -> list[Comparison]:
    """Every block's records, in order (one list per attribute, as the result holds them)."""
    with collection_paused():
        return [row for block in blocks for row in block.records()]


@dataclass(frozen=True)
class ComparisonRecords:
    """An attribute's comparisons, made when read (all at once) or written (a block at a time)."""

    blocks: Sequence[ComparisonBlock]

    def __call__(self) -> list[Comparison]:
        return comparison_records(self.blocks)

    def chunks(self, size: int = 256) -> Iterator[list[Comparison]]:
        """The same records in pieces of ``size``, so that writing audit.json never holds them all."""
        for block in self.blocks:
            for start in range(0, len(block.groups), size):
                with collection_paused():
                    records = block.part(slice(start, start + size)).records()
                yield records


@dataclass(frozen=True)
class GroupColumns:
    """An attribute's groups in display order: sizes, each metric's values and intervals, and their counts."""

    names: list[str]
    levels: list[dict[str, str]]
    rows: np.ndarray
    weights: np.ndarray
    share: np.ndarray
    is_unknown: np.ndarray
    values: dict[str, Interval]
    counts: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # count metrics: (k, n, rows) per group
    below_min_size: np.ndarray

    def chunks(self, size: int = 64) -> Iterator[list[GroupResult]]:
        """The same records as ``records`` in pieces of ``size`` groups (audit.json is written a piece at a
        time, so that it never holds them all)."""
        for start in range(0, len(self.names), size):
            yield self._part(slice(start, start + size)).records()

    def _part(self, part: slice) -> GroupColumns:
        return GroupColumns(
            names=self.names[part],
            levels=self.levels[part],
            rows=self.rows[part],
            weights=self.weights[part],
            share=self.share[part],
            is_unknown=self.is_unknown[part],
            values={name: _cut(interval, part) for name, interval in self.values.items()},
            counts={name: (k[part], n[part], rows[part]) for name, (k, n, rows) in self.counts.items()},
            below_min_size=self.below_min_size[part],
        )

    def __call__(self) -> list[GroupResult]:
        return self.records()

    def records(self) -> list[GroupResult]:
        with collection_paused():
            values = {name: estimates(interval) for name, interval in self.values.items()}
            counts = {
                name: RATE_COUNT.many(
                    [
                        np.asarray(k, dtype=np.float64).tolist(),
                        np.asarray(n, dtype=np.float64).tolist(),
                        np.asarray(rows, dtype=np.int64).tolist(),
                    ]
                )
                for name, (k, n, rows) in self.counts.items()
            }
            size = len(self.names)
            return GROUP.many(
                [
                    self.names,
                    [dict(levels) for levels in self.levels],
                    self.rows.astype(np.int64).tolist(),
                    self.weights.astype(np.float64).tolist(),
                    self.share.astype(np.float64).tolist(),
                    self.is_unknown.tolist(),
                    [{name: column[g] for name, column in values.items()} for g in range(size)],
                    [{name: column[g] for name, column in counts.items()} for g in range(size)],
                    self.below_min_size.tolist(),
                ]
            )

    def undefined(self) -> list[tuple[str, str]]:
        """(metric, group) of every known group's metric without a value."""
        known = ~self.is_unknown
        return [
            (name, self.names[g])
            for name, interval in self.values.items()
            for g in np.flatnonzero(known & ~np.isfinite(interval.point)).tolist()
        ]
