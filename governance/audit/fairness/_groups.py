"""Which cells of the count table make up each group of an attribute, an intersection or the overall."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations, product
from typing import Literal

import numpy as np

from governance.audit.fairness._inputs import UNKNOWN
from governance.audit.fairness.table import CountTable
from governance.errors import InputError

JOIN = " × "
# Which intersections of the sensitive columns are audited besides each column alone: none, every pair,
# the full intersection of all columns, or both (NYC LL144 asks for sex × race whatever else is audited).
Intersections = Literal["none", "pairs", "full", "all"]
INTERSECTION_MODES: tuple[str, ...] = ("none", "pairs", "full", "all")
_EMPTY_CELLS_LISTED = 1000  # list at most this many empty intersection cells


@dataclass
class GroupPlan:
    """Groups of one attribute as sums of table cells; ``cell_group[i]`` is cell i's group index."""

    attribute: str
    columns: list[str]
    is_intersection: bool
    names: list[str]
    levels: list[dict[str, str]]
    is_unknown: np.ndarray  # bool per group
    cell_group: np.ndarray  # int64 per cell
    empty_cells: list[str] = field(default_factory=list)
    _order: np.ndarray | None = None
    _starts: np.ndarray | None = None

    @property
    def n_groups(self) -> int:
        return len(self.names)

    def __post_init__(self) -> None:
        identity = self.cell_group.shape[0] == self.n_groups and bool(
            np.array_equal(self.cell_group, np.arange(self.n_groups))
        )
        if not identity:
            self._order = np.argsort(self.cell_group, kind="stable")
            self._starts = np.searchsorted(self.cell_group[self._order], np.arange(self.n_groups))

    def aggregate(self, array: np.ndarray, *, axis: int) -> np.ndarray:
        """Sum an array over cells (along ``axis``) into groups; every group has at least one cell."""
        if self._order is None or self._starts is None:
            return array
        if self.n_groups == 1:
            return np.asarray(array.sum(axis=axis, keepdims=True))
        return np.add.reduceat(np.take(array, self._order, axis=axis), self._starts, axis=axis)


def intersection_mode(value: bool | str) -> Intersections:
    """``True``/``False`` (the older switch) mean ``all``/``none``."""
    if value is True:
        return "all"
    if value is False:
        return "none"
    if value not in INTERSECTION_MODES:
        raise InputError(f"intersections must be one of {', '.join(INTERSECTION_MODES)}, not {value!r}.")
    return value  # type: ignore[return-value]


def plan_groups(table: CountTable, *, intersections: bool | str) -> list[GroupPlan]:
    """One plan per sensitive column, then the intersections the mode asks for (pairs first, then all)."""
    mode = intersection_mode(intersections)
    plans: list[GroupPlan] = []
    for j, column in enumerate(table.columns):
        levels = table.levels[j]
        unknown = np.zeros(len(levels), dtype=bool)
        if table.has_unknown[j]:
            unknown[-1] = True
        present = np.zeros(len(levels), dtype=bool)
        present[table.cells[:, j]] = True
        # Every level came from the data, but a combined table may hold a level with no rows left.
        keep = np.flatnonzero(present)
        remap = np.full(len(levels), -1, dtype=np.int64)
        remap[keep] = np.arange(keep.shape[0])
        plans.append(
            GroupPlan(
                attribute=column,
                columns=[column],
                is_intersection=False,
                names=[levels[i] for i in keep],
                levels=[{column: levels[i]} for i in keep],
                is_unknown=unknown[keep],
                cell_group=remap[table.cells[:, j]],
            )
        )
    k = len(table.columns)
    if k >= 2 and mode in ("pairs", "all"):
        plans.extend(_intersection(table, pair) for pair in combinations(range(k), 2))
    if (k >= 2 and mode == "full") or (k >= 3 and mode == "all"):
        plans.append(_intersection(table, tuple(range(k))))
    return plans


def _intersection(table: CountTable, chosen: tuple[int, ...]) -> GroupPlan:
    """Groups of the intersection of the ``chosen`` columns (indices into the table's columns)."""
    columns = [table.columns[j] for j in chosen]
    unknown_cells = np.zeros(table.cells.shape[0], dtype=bool)
    for j in chosen:
        if table.has_unknown[j]:
            unknown_cells |= table.cells[:, j] == len(table.levels[j]) - 1
    sub = table.cells[:, list(chosen)]
    known_rows = np.flatnonzero(~unknown_cells)
    combos, inverse = np.unique(sub[known_rows], axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    chosen_levels = [table.levels[j] for j in chosen]
    chosen_columns = [table.columns[j] for j in chosen]
    named = [[lv[code] for lv, code in zip(chosen_levels, combo, strict=True)] for combo in combos.tolist()]
    names = [JOIN.join(parts) for parts in named]
    levels = [dict(zip(chosen_columns, parts, strict=True)) for parts in named]
    cell_group = np.empty(table.cells.shape[0], dtype=np.int64)
    cell_group[known_rows] = inverse
    is_unknown = [False] * len(names)
    if unknown_cells.any():
        cell_group[unknown_cells] = len(names)
        names.append(UNKNOWN)
        levels.append({})
        is_unknown.append(True)
    known_levels = [table.levels[j][:-1] if table.has_unknown[j] else table.levels[j] for j in chosen]
    possible = int(np.prod([len(lv) for lv in known_levels], dtype=np.float64))
    empty: list[str] = []
    if possible > combos.shape[0]:
        observed = {tuple(int(c) for c in combo) for combo in combos}
        for combination in product(*[range(len(lv)) for lv in known_levels]):
            if combination not in observed:
                empty.append(JOIN.join(known_levels[j][c] for j, c in enumerate(combination)))
                if len(empty) >= _EMPTY_CELLS_LISTED:
                    break
    return GroupPlan(
        attribute=JOIN.join(columns),
        columns=columns,
        is_intersection=True,
        names=names,
        levels=levels,
        is_unknown=np.array(is_unknown, dtype=bool),
        cell_group=cell_group,
        empty_cells=empty,
    )


def overall_plan(table: CountTable) -> GroupPlan:
    """Every row in one group (the overall values)."""
    return GroupPlan(
        attribute="overall",
        columns=[],
        is_intersection=False,
        names=["overall"],
        levels=[{}],
        is_unknown=np.zeros(1, dtype=bool),
        cell_group=np.zeros(table.cells.shape[0], dtype=np.int64),
    )
