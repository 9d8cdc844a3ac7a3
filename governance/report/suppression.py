"""Small-cell suppression for the tables one audit publishes together, with the least complementary suppression.

A table that shows a group of fewer than ``k`` people can identify them, so that group is masked (primary
suppression, shown as "fewer than k"). Masking it alone is not enough: the tables of one audit are published
together (one per attribute, one per pair, the full intersection, the impact-ratio tables and the overall
number of rows), and a total minus the visible cells under it gives a masked count back. So:

1. A *margin* is a published count (a group of one table, or the overall total) together with the groups of
   another table that add up to exactly it, e.g. ``female`` (sex table) = ``female × 18-24`` + ... (sex × age
   table) when nobody's age is unknown; each row and column of an intersection counts as one too. Whenever
   exactly one number of a margin is masked, one more of it is masked ("hidden to protect a small group"): a
   group rather than the total, the one leaving the fewest other margins with a single masked number, then
   the smallest; repeated until nothing changes.
2. Then a linear programme plays the reader: it takes every visible count, the total, and what the labels say
   (a small group has 1 to k - 1 people, a protecting group at least k), and for each masked count asks for the
   smallest and largest value it can take. A count left with a single possible whole value is pinned down:
   the smallest visible count beside it is masked as well, and step 1 runs again.

Limits (said in the user guide too): a reader can narrow a masked count to a range (1 or 2, say), just not to
one number; the check reasons about counts of people, not about what they were given (if every person in the
masked groups of a row was selected, step 1 masks one more group with another outcome, but the programme
does not look at outcomes); more than a few thousand combinations of the sensitive attributes skip the
programme and rely on step 1 alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

if TYPE_CHECKING:
    from governance.results.explain import ExplanationResult

Key = TypeVar("Key", bound=Hashable)
Reason = Literal["small", "complement"]
SMALL: Reason = "small"
COMPLEMENT: Reason = "complement"
MAX_ATOMS = 5000  # beyond this many combinations of attribute levels, only the margin rule runs


@dataclass(frozen=True)
class Cell:
    """One published count: ``key`` holds a level per column of its table (``None``: unknown), or is ``None``
    for an intersection's single group of everyone with any of its attributes unknown."""

    name: str
    key: tuple[str | None, ...] | None
    n: int
    selected: int | None = None  # how many of them were selected, where the page shows it (rate x size)


@dataclass(frozen=True)
class Table:
    """One published table: its name, the columns it splits by, and its groups."""

    name: str
    columns: tuple[str, ...]
    cells: tuple[Cell, ...]


CellId = tuple[str, str]  # (table name, group name)
TOTAL: CellId = ("", "")  # the overall number of rows, always published


def suppress_tables(tables: Sequence[Table], *, k: int, mask_unknown: bool = False) -> dict[CellId, Reason]:
    """The groups to mask in tables published together, each with why (``small`` or ``complement``).

    A group of people whose attribute is unknown says nothing about anyone's sex or race, and NYC Local Law 144
    asks for its size; it is masked only to protect another group, unless ``mask_unknown``. (Masking a small one
    would cost a large known group in its table, and the intersections' unknown groups give it back anyway.)
    """
    if k <= 1:
        return {}
    system = _System(tables)
    unknown = {
        (table.name, cell.name)
        for table in tables
        for cell in table.cells
        if cell.key is None or None in cell.key
    }
    masked: dict[CellId, Reason] = {
        cid: SMALL
        for cid, n in system.sizes.items()
        if 0 < n < k and cid != TOTAL and (mask_unknown or cid not in unknown)
    }
    while True:
        _margin_rule(system, masked)
        added = _protect_pinned(system, masked, k)
        if not added:
            return masked


def suppress(counts: Mapping[Key, int], *, k: int) -> set[Key]:
    """Keys to mask in a one-way table of ``counts`` whose total is published."""
    names = {str(key): key for key in counts}
    table = Table("t", ("a",), tuple(Cell(str(key), (str(key),), n) for key, n in counts.items()))
    return {names[name] for (_, name) in suppress_tables([table], k=k)}


def suppress_grid(cells: Mapping[tuple[Any, ...], int], *, k: int) -> set[tuple[Any, ...]]:
    """Cells to mask in an intersection keyed by level tuples, published with every table of fewer attributes
    (each attribute alone, each pair ...), as an audit publishes them."""
    if not cells:
        return set()
    dimensions = len(next(iter(cells)))
    columns = tuple(f"c{i}" for i in range(dimensions))
    tables = []
    for size in range(1, dimensions + 1):
        for chosen in itertools.combinations(range(dimensions), size):
            sums: dict[tuple[str, ...], int] = {}
            for key, n in cells.items():
                part = tuple(str(key[i]) for i in chosen)
                sums[part] = sums.get(part, 0) + n
            name = "grid" if size == dimensions else "/".join(columns[i] for i in chosen)
            tables.append(
                Table(
                    name,
                    tuple(columns[i] for i in chosen),
                    tuple(Cell(repr(key), key, n) for key, n in sums.items()),
                )
            )
    keys = {repr(tuple(str(level) for level in key)): key for key in cells}
    return {keys[name] for (table, name) in suppress_tables(tables, k=k) if table == "grid"}


class _System:
    """The published counts as sums over combinations of attribute levels ("atoms"), and the margins among them."""

    def __init__(self, tables: Sequence[Table]) -> None:
        self.sizes: dict[CellId, int] = {TOTAL: 0}
        self.selected: dict[CellId, int | None] = {}
        self.table_of: dict[CellId, Table] = {}
        for table in tables:
            for cell in table.cells:
                self.sizes[(table.name, cell.name)] = cell.n
                self.selected[(table.name, cell.name)] = cell.selected
                self.table_of[(table.name, cell.name)] = table
        self.sizes[TOTAL] = max((sum(c.n for c in t.cells) for t in tables), default=0)
        self.atoms = _atoms(tables)
        self.members: dict[CellId, frozenset[int]] = {TOTAL: frozenset(range(len(self.atoms)))}
        for table in tables:
            for cell in table.cells:
                self.members[(table.name, cell.name)] = _members(table, cell, self.atoms)
        self.margins = _margins(tables, self.members) + _lines(tables)
        self.by_term: dict[CellId, list[tuple[CellId, list[CellId]]]] = {}
        for margin in self.margins:
            for term in (margin[0], *margin[1]):
                self.by_term.setdefault(term, []).append(margin)


def _atoms(tables: Sequence[Table]) -> list[dict[str, str | None]]:
    """Every combination of levels that may hold people: one published zero (a combination some table lacks)
    rules a combination out."""
    columns: list[str] = []
    for table in tables:
        columns += [column for column in table.columns if column not in columns]
    levels: dict[str, list[str | None]] = {column: [] for column in columns}
    for table in tables:
        for cell in table.cells:
            for column, level in zip(table.columns, cell.key or (), strict=False):
                if level is not None and level not in levels[column]:
                    levels[column].append(level)
    for column in columns:
        levels[column].append(None)  # unknown; ruled out below where no table has room for it
    count = 1
    for column in columns:
        count *= len(levels[column])
    if count > MAX_ATOMS * 4:
        return []
    atoms = [
        dict(zip(columns, combo, strict=True)) for combo in itertools.product(*(levels[c] for c in columns))
    ]
    return [atom for atom in atoms if all(_has_room(table, atom) for table in tables)]


def _has_room(table: Table, atom: dict[str, str | None]) -> bool:
    """Whether ``table`` has a group this combination of levels would fall in."""
    projection = tuple(atom[column] for column in table.columns)
    if any(level is None for level in projection) and len(table.columns) > 1:
        return any(cell.key is None for cell in table.cells)
    return any(cell.key == projection for cell in table.cells)


def _members(table: Table, cell: Cell, atoms: list[dict[str, str | None]]) -> frozenset[int]:
    if cell.key is None:
        return frozenset(i for i, atom in enumerate(atoms) if any(atom[c] is None for c in table.columns))
    return frozenset(i for i, atom in enumerate(atoms) if tuple(atom[c] for c in table.columns) == cell.key)


def _margins(
    tables: Sequence[Table], members: Mapping[CellId, frozenset[int]]
) -> list[tuple[CellId, list[CellId]]]:
    """Each published count with the groups of another table that add up to exactly it."""
    if not members[TOTAL]:  # too many combinations to reason about: every table adds up to the total
        return [(TOTAL, [(t.name, c.name) for c in t.cells]) for t in tables]
    margins = []
    totals = [(TOTAL, None)] + [((t.name, c.name), t) for t in tables for c in t.cells]
    for whole, home in totals:
        atoms = members[whole]
        if not atoms:
            continue
        for table in tables:
            if table is home or (home is not None and not set(home.columns) <= set(table.columns)):
                continue
            parts = [
                (table.name, c.name)
                for c in table.cells
                if members[(table.name, c.name)] and members[(table.name, c.name)] <= atoms
            ]
            if parts and frozenset().union(*(members[p] for p in parts)) == atoms:
                margins.append((whole, parts))
    return margins


def _lines(tables: Sequence[Table]) -> list[tuple[CellId, list[CellId]]]:
    """Rows and columns of each intersection, with the group of the table of one attribute fewer they add up to.

    With unknown values the line falls short of that group by the people whose value is unknown, which a reader
    does not know; treating the line as an exact margin anyway errs on the side of hiding.
    """
    by_columns = {table.columns: table for table in tables}
    out = []
    for table in tables:
        for free in range(len(table.columns) if len(table.columns) > 1 else 0):
            rest = table.columns[:free] + table.columns[free + 1 :]
            grouped: dict[tuple[str | None, ...], list[CellId]] = {}
            for cell in table.cells:
                if cell.key is not None:
                    grouped.setdefault(cell.key[:free] + cell.key[free + 1 :], []).append(
                        (table.name, cell.name)
                    )
            coarser = by_columns.get(rest)
            for key, line in grouped.items():
                whole = next((c for c in coarser.cells if c.key == key), None) if coarser else None
                out.append(((coarser.name, whole.name) if coarser and whole else TOTAL, line))
    return out


def _margin_rule(system: _System, masked: dict[CellId, Reason]) -> None:
    """While a margin has exactly one masked number, or masked groups that all had the same outcome, mask one
    more number of it."""
    changed = True
    while changed:
        changed = False
        for whole, parts in system.margins:
            terms = [whole, *parts]
            if sum(term in masked for term in terms) != 1:
                if whole not in masked and _same_outcome(system, [p for p in parts if p in masked]):
                    changed |= _mix_outcomes(system, masked, parts)
                continue
            # a group of the finer table first (a total hidden in a coarser table hides more from readers);
            # among them, one that leaves the fewest other margins needing one more, then the smallest
            visible = [term for term in parts if term not in masked] or [whole] * (
                whole not in masked and whole != TOTAL
            )
            if visible:
                masked[
                    min(visible, key=lambda term: (_opened(system, masked, term), system.sizes[term], term))
                ] = COMPLEMENT
                changed = True


def _same_outcome(system: _System, hidden: list[CellId]) -> bool:
    """Whether the masked groups of a margin were all selected, or none of them: the visible total minus the
    visible groups would then tell each masked group's outcome, though not its size."""
    if len(hidden) < 2:
        return False
    counts = [system.selected.get(cid) for cid in hidden]
    if any(count is None for count in counts):
        return False
    selected = sum(count for count in counts if count is not None)
    return selected == 0 or selected == sum(system.sizes[cid] for cid in hidden)


def _mix_outcomes(system: _System, masked: dict[CellId, Reason], parts: list[CellId]) -> bool:
    """Mask the smallest visible group of the margin whose outcome differs from the masked ones'."""
    hidden = [p for p in parts if p in masked]
    none_selected = sum(system.selected.get(cid) or 0 for cid in hidden) == 0
    candidates = [
        p
        for p in parts
        if p not in masked
        and system.selected.get(p) is not None
        and ((system.selected[p] or 0) > 0 if none_selected else (system.selected[p] or 0) < system.sizes[p])
    ]
    if not candidates:
        return False
    masked[min(candidates, key=lambda term: (_opened(system, masked, term), system.sizes[term], term))] = (
        COMPLEMENT
    )
    return True


def _opened(system: _System, masked: Mapping[CellId, Reason], term: CellId) -> int:
    """How many margins masking ``term`` would leave with exactly one masked number (each needs one more)."""
    return sum(
        1
        for margin in system.by_term.get(term, ())
        if not any(other in masked for other in (margin[0], *margin[1]))
    )


def _protect_pinned(system: _System, masked: dict[CellId, Reason], k: int) -> bool:
    """Mask one more count beside the first masked count the published numbers pin down; True if one was added.

    Of the visible counts that share people with it (its line and margins, an intersection's group of unknowns),
    the smallest that leaves it with more than one possible value is taken; failing that, the smallest beside it.
    """
    found = pinned(system, masked, k, first_only=True)
    if not found:
        return False
    target = found[0]

    def visible(cids: Iterable[CellId]) -> list[CellId]:
        return sorted((c for c in cids if c not in masked and c != TOTAL), key=lambda c: (system.sizes[c], c))

    beside = visible(_beside(system, target))
    overlapping = visible(
        c
        for c in system.sizes
        if c not in beside and system.members.get(c, frozenset()) & system.members[target]
    )
    for cid in sorted((*beside, *overlapping), key=lambda c: (system.sizes[c], c)):
        if not pinned(system, {**masked, cid: COMPLEMENT}, k, only=[target]):
            masked[cid] = COMPLEMENT
            return True
    fallback = beside or overlapping
    if not fallback:
        return False
    masked[fallback[0]] = COMPLEMENT
    return True


def _beside(system: _System, target: CellId) -> set[CellId]:
    """Counts next to ``target``: its margins, and the groups of its table that differ from it in one level."""
    beside = {
        term
        for whole, parts in system.margins
        if whole != TOTAL and target in (whole, *parts)
        for term in (whole, *parts)
    }
    table = system.table_of[target]
    key = next(cell.key for cell in table.cells if cell.name == target[1])
    for cell in table.cells:
        if (
            key is not None
            and cell.key is not None
            and sum(a != b for a, b in zip(key, cell.key, strict=True)) == 1
        ):
            beside.add((table.name, cell.name))
    if not beside:
        beside = {(table.name, cell.name) for cell in table.cells}
    return beside


def pinned(
    system: _System,
    masked: Mapping[CellId, Reason],
    k: int,
    *,
    first_only: bool = False,
    only: Sequence[CellId] | None = None,
) -> list[CellId]:
    """Masked counts that the visible counts, the total and the labels leave with a single possible value."""
    atoms = sorted(system.members[TOTAL])
    if not masked or not atoms or len(atoms) > MAX_ATOMS:
        return []
    import numpy as np
    from scipy.optimize import linprog

    column = {atom: i for i, atom in enumerate(atoms)}

    def row(cid: CellId) -> Any:
        vector = np.zeros(len(atoms))
        vector[[column[a] for a in system.members[cid]]] = 1.0
        return vector

    visible = [cid for cid in system.sizes if cid not in masked and system.members.get(cid)]
    a_eq = np.array([row(cid) for cid in visible])
    b_eq = np.array([system.sizes[cid] for cid in visible], dtype=float)
    a_ub, b_ub = [], []
    for cid, reason in masked.items():
        if reason == SMALL:
            a_ub += [row(cid), -row(cid)]
            b_ub += [k - 1, -1]
        else:
            a_ub.append(-row(cid))
            b_ub.append(-k)
    found = []
    for cid in sorted(only if only is not None else masked):
        objective = row(cid)
        if not objective.any():
            continue
        bounds = []
        for sign in (1.0, -1.0):
            solved = linprog(
                sign * objective,
                A_ub=np.array(a_ub),
                b_ub=np.array(b_ub),
                A_eq=a_eq,
                b_eq=b_eq,
                bounds=(0, None),
            )
            bounds.append(sign * solved.fun if solved.status == 0 else None)
        low, high = bounds
        if low is not None and high is not None and int(np.floor(high + 1e-6)) - int(np.ceil(low - 1e-6)) < 1:
            found.append(cid)
            if first_only:
                break
    return found


def published_explanation(
    explanation: ExplanationResult, hidden: Mapping[str, Collection[str]]
) -> ExplanationResult:
    """The explanation without the masked groups (and without comparisons that name one), for publication."""
    attributes = []
    for attribute in explanation.by_group:
        masked = hidden.get(attribute.attribute, ())
        attributes.append(
            attribute.model_copy(
                update={
                    "groups": [group for group in attribute.groups if group.group not in masked],
                    "most_different": [
                        d
                        for d in attribute.most_different
                        if d.highest_group not in masked and d.lowest_group not in masked
                    ],
                }
            )
        )
    return explanation.model_copy(update={"by_group": attributes})
