"""Which cells of the count table make up each group of an attribute, an intersection or the overall."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import product

import numpy as np

from governance.audit.fairness._inputs import UNKNOWN
from governance.audit.fairness.table import CountTable

JOIN = " × "
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
            return array.sum(axis=axis, keepdims=True)
        return np.add.reduceat(np.take(array, self._order, axis=axis), self._starts, axis=axis)


def plan_groups(table: CountTable, *, intersections: bool) -> list[GroupPlan]:
    """One plan per sensitive column, then (with two or more columns) their full intersection."""
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
    if intersections and len(table.columns) >= 2:
        plans.append(_intersection(table))
    return plans


def _intersection(table: CountTable) -> GroupPlan:
    unknown_cells = table.unknown_cells()
    known = np.flatnonzero(~unknown_cells)
    names = [JOIN.join(table.levels[j][code] for j, code in enumerate(table.cells[i])) for i in known]
    levels = [
        {column: table.levels[j][table.cells[i, j]] for j, column in enumerate(table.columns)} for i in known
    ]
    cell_group = np.empty(table.cells.shape[0], dtype=np.int64)
    cell_group[known] = np.arange(known.shape[0])
    is_unknown = [False] * len(names)
    if unknown_cells.any():
        cell_group[unknown_cells] = len(names)
        names.append(UNKNOWN)
        levels.append({})
        is_unknown.append(True)
    known_levels = [
        lv[:-1] if has_unknown else lv
        for lv, has_unknown in zip(table.levels, table.has_unknown, strict=True)
    ]
    possible = int(np.prod([len(lv) for lv in known_levels], dtype=np.float64))
    empty: list[str] = []
    if possible > len(known):
        observed = {tuple(int(c) for c in table.cells[i]) for i in known}
        for combination in product(*[range(len(lv)) for lv in known_levels]):
            if combination not in observed:
                empty.append(JOIN.join(known_levels[j][c] for j, c in enumerate(combination)))
                if len(empty) >= _EMPTY_CELLS_LISTED:
                    break
    return GroupPlan(
        attribute=JOIN.join(table.columns),
        columns=list(table.columns),
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
