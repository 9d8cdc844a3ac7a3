"""Small-cell suppression: cells under k are masked, and no masked cell can be recovered from the totals.

The oracle is a linear programme: for every masked cell, minimise and maximise it subject to every published
line total and the visible cells (scipy's linprog). If the minimum equals the maximum, the table gave it away.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from governance.report.suppression import Cell, Table, suppress, suppress_grid, suppress_tables


def recoverable(
    cells: dict[tuple[str, ...], int],
    masked: set[tuple[str, ...]],
    k: int,
    hidden_totals: frozenset[tuple[int, tuple[str, ...]]] = frozenset(),
) -> list[tuple[str, ...]]:
    """Masked cells whose value is pinned down by the published line totals and the labels.

    A masked group is labelled "fewer than k" (1 to k - 1 people) or "hidden to protect a small group" (at
    least k). Lines are all cells sharing all but one level; a line's total
    is published when it is at least ``k`` (a
    smaller total is a small group of its own, masked in its own table).
    """
    unknown = sorted(masked)
    if not unknown:
        return []
    index = {key: position for position, key in enumerate(unknown)}
    rows, totals = [], []
    dimensions = len(next(iter(cells)))
    for free in range(dimensions):
        lines: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
        for key in cells:
            lines.setdefault(key[:free] + key[free + 1 :], []).append(key)
        for line_key, line in lines.items():
            if sum(cells[key] for key in line) < k or (free, line_key) in hidden_totals:
                continue
            row = np.zeros(len(unknown))
            for key in line:
                if key in index:
                    row[index[key]] = 1
            if row.any():
                rows.append(row)
                totals.append(sum(cells[key] for key in line if key in index))
    if not rows:
        return []
    pinned = []
    bounds = [(1, k - 1) if cells[key] < k else (k, None) for key in unknown]
    for key, position in index.items():
        objective = np.zeros(len(unknown))
        objective[position] = 1
        low = linprog(objective, A_eq=np.array(rows), b_eq=np.array(totals), bounds=bounds)
        high = linprog(-objective, A_eq=np.array(rows), b_eq=np.array(totals), bounds=bounds)
        if low.status == 0 and high.status == 0 and np.floor(-high.fun + 1e-6) - np.ceil(low.fun - 1e-6) < 1:
            pinned.append(key)
    return pinned


def published_masks(
    cells: dict[tuple[str, str], int], k: int
) -> tuple[set[tuple[str, str]], frozenset[tuple[int, tuple[str, ...]]]]:
    """The grid cells and the row and column totals masked when the grid and its one-attribute tables are
    published together, from one run (as the report masks them: the choice among equal candidates depends on
    the names, so masks from two separate runs need not fit together)."""
    rows = {(r,): sum(n for (a, _), n in cells.items() if a == r) for r, _ in cells}
    columns = {(c,): sum(n for (_, b), n in cells.items() if b == c) for _, c in cells}
    tables = [
        Table("rows", ("r",), tuple(Cell(key[0], key, n) for key, n in rows.items())),
        Table("columns", ("c",), tuple(Cell(key[0], key, n) for key, n in columns.items())),
        Table("grid", ("r", "c"), tuple(Cell(f"{a}/{b}", (a, b), n) for (a, b), n in cells.items())),
    ]
    hidden = suppress_tables(tables, k=k)
    grid = {(a, b) for (a, b) in cells if ("grid", f"{a}/{b}") in hidden}
    # a row total is the line with the column free (free=1), keyed by the row level
    margins = frozenset(
        {(1, (name,)) for table, name in hidden if table == "rows"}
        | {(0, (name,)) for table, name in hidden if table == "columns"}
    )
    return grid, margins


def degenerate(cells: dict[tuple[str, ...], int], k: int) -> bool:
    """A published line whose total equals its number of groups says every group has one person: no masking
    can hide that, short of masking the total itself."""
    dimensions = len(next(iter(cells)))
    for free in range(dimensions):
        lines: dict[tuple[str, ...], list[int]] = {}
        for key, n in cells.items():
            lines.setdefault(key[:free] + key[free + 1 :], []).append(n)
        if any(sum(line) >= k and sum(line) <= len(line) for line in lines.values()):
            return True
    return False


def test_one_small_group_takes_the_next_smallest_with_it() -> None:
    assert suppress({"a": 3, "b": 50, "c": 40}, k=10) == {"a", "c"}


def test_two_small_groups_protect_each_other() -> None:
    # the total minus the visible cells says a + b = 3: each is 1 or 2, not one number, so nothing more is masked
    assert suppress({"a": 1, "b": 2, "c": 30, "d": 40}, k=10) == {"a", "b"}
    # a + b = 2 would pin both at 1: a third group is masked
    assert suppress({"a": 1, "b": 1, "c": 30, "d": 40}, k=10) == {"a", "b", "c"}


def test_nothing_to_mask() -> None:
    assert suppress({"a": 10, "b": 12}, k=10) == set()
    assert suppress({"a": 1, "b": 2}, k=1) == set()  # k <= 1 switches suppression off


def test_two_way_table_masks_in_rows_and_columns() -> None:
    cells = {
        ("f", "young"): 4, ("f", "mid"): 40, ("f", "old"): 30,
        ("m", "young"): 25, ("m", "mid"): 60, ("m", "old"): 35,
    }  # fmt: skip
    masked = suppress_grid(cells, k=10)
    assert ("f", "young") in masked
    assert recoverable(cells, masked, 10) == []
    assert ("m", "mid") not in masked  # 60 people: nothing forces it


@settings(max_examples=100, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=60), min_size=2, max_size=8),
    k=st.integers(min_value=2, max_value=15),
)
def test_one_way_tables_never_reveal_a_masked_cell(sizes: list[int], k: int) -> None:
    cells = {(f"g{i}",): n for i, n in enumerate(sizes)}
    assume(not degenerate(cells, k))
    masked = suppress_grid(cells, k=k)
    assert all(key in masked for key, n in cells.items() if n < k)
    assert len(masked) != 1 or len(cells) == 1
    if len(masked) < len(cells):  # a table whose every group is masked is not published at all
        assert recoverable(cells, masked, k) == []


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(min_value=2, max_value=4),
    columns=st.integers(min_value=2, max_value=4),
    data=st.data(),
    k=st.integers(min_value=3, max_value=12),
)
def test_two_way_tables_never_reveal_a_masked_cell(
    rows: int, columns: int, data: st.DataObject, k: int
) -> None:
    # empty combinations are not groups (the audit lists them apart, as known zeros), so every cell has people
    cells = {
        (f"r{r}", f"c{c}"): data.draw(st.integers(min_value=1, max_value=40))
        for r, c in itertools.product(range(rows), range(columns))
    }
    assume(not degenerate(cells, k))
    assert all(key in suppress_grid(cells, k=k) for key, n in cells.items() if n < k)
    masked, margins = published_masks(cells, k)
    assert all(key in masked for key, n in cells.items() if n < k)
    if len(masked) < len(cells):
        assert recoverable(cells, masked, k, margins) == []
    # else: the whole table is masked; only its marginal totals are left, which the marginal tables' own
    # masking protects (a limit this table cannot lift by itself)


@pytest.mark.parametrize("k", [5, 10])
def test_published_tables_use_it(k: int) -> None:
    from governance.site.audit_page import group_table
    from tests.site.conftest import make_audit

    audit = make_audit(
        "m",
        "1",
        "a",
        sizes={"female": 7, "male": 80, "other": 30},
        rates={"female": 0.5, "male": 0.6, "other": 0.4},
    )
    text = group_table(audit.fairness.attributes[0], min_cell_size=k)
    masked_rows = [line.split("|")[1].strip() for line in text.splitlines() if "| hidden |" in line]
    assert masked_rows == (["female", "other"] if k == 10 else [])
    if k == 10:
        assert "| female | fewer than 10 | hidden |" in text
        assert "| other | hidden to protect a small group | hidden |" in text
        assert "2 of 3 groups hidden in this table" in text


def test_site_pages_hide_at_least_what_the_audit_page_hides() -> None:
    from governance.report.markdown import hidden_groups
    from governance.site.audit_page import masked_groups
    from tests.site.conftest import make_audit

    sizes = {"a": 1, "b": 2, "c": 30, "d": 40}
    audit = make_audit("m", "1", "x", sizes=sizes, rates=dict.fromkeys(sizes, 0.5))
    attribute = audit.fairness.attributes[0]
    on_audit_page = hidden_groups(audit, 10)["sex"]
    on_model_page = masked_groups(attribute, min_cell_size=10)
    assert on_audit_page == on_model_page  # one algorithm for every page
    assert on_model_page == {"a", "b"}  # a + b = 3 leaves each at 1 or 2: not one number
