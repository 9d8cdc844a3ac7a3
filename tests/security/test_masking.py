"""Masking hides only what it must (issue 11, point 5).

A real-size audit of three attributes (groups of 5 to 900 people, some values missing) is computed by the real
fairness code; every table it publishes (each attribute, each pair, the full intersection, the impact-ratio
tables and the overall count) is masked at once. The attacks below are written from the raw rows, not from the
masking code: one subtracts visible groups from every published total, one asks a linear programme for the
smallest and largest value of each masked count.
"""

from __future__ import annotations

import itertools
import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from governance.audit.fairness.compute import compute_fairness
from governance.report.markdown import masking, render_report
from governance.results.audit import AuditResult
from governance.results.fairness import AttributeResult, GroupResult
from tests.site.conftest import WorkspaceFactory, make_audit, workspace_factory  # noqa: F401 (fixtures)

K = 10
SEX = ("female", "male")
RACE = ("White", "Black", "Hispanic", "Asian", "Pacific Islander")
AGE = ("under 25", "25-54", "55 and over")
# people per (race, age), as (female, male): from 5 to 888
SIZES = {
    ("White", "under 25"): (120, 140), ("White", "25-54"): (700, 888), ("White", "55 and over"): (300, 350),
    ("Black", "under 25"): (40, 35), ("Black", "25-54"): (160, 150), ("Black", "55 and over"): (60, 45),
    ("Hispanic", "under 25"): (55, 60), ("Hispanic", "25-54"): (210, 230), ("Hispanic", "55 and over"): (30, 25),
    ("Asian", "under 25"): (20, 15), ("Asian", "25-54"): (90, 100), ("Asian", "55 and over"): (12, 9),
    ("Pacific Islander", "under 25"): (5, 7), ("Pacific Islander", "25-54"): (14, 16),
    ("Pacific Islander", "55 and over"): (6, 8),
}  # fmt: skip
CASES = ["curated", "random-1", "random-2", "random-3"]
MISSING = {"sex": 25, "race": 30, "age": 12}  # more people, with that value unknown


def _rows() -> pd.DataFrame:
    rows = []
    for (race, age), sizes in SIZES.items():
        for sex, n in zip(SEX, sizes, strict=True):
            rows += [{"sex": sex, "race": race, "age": age}] * n
    cycle = itertools.cycle(
        [("female", "White", "25-54"), ("male", "Black", "under 25"), ("male", "Asian", "55 and over")]
    )
    for column, count in MISSING.items():  # extra people with one value unknown
        for _ in range(count):
            row = dict(zip(("sex", "race", "age"), next(cycle), strict=True))
            rows.append({**row, column: None})
    return pd.DataFrame(rows)


def _random_rows(seed: int) -> pd.DataFrame:
    """Three attributes with cell sizes drawn from 1 to 900 (most small), and a few values missing."""
    rng = np.random.default_rng(seed)
    rows = []
    for combo in itertools.product(SEX, RACE[:4], AGE):
        rows += [dict(zip(("sex", "race", "age"), combo, strict=True))] * int(
            np.clip(rng.lognormal(3, 1.4), 1, 900)
        )
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        frame.loc[rng.choice(len(frame), size=int(rng.integers(0, 20)), replace=False), column] = None
    return frame


@cache
def _audit(case: str = "curated") -> tuple[pd.DataFrame, AuditResult]:
    frame = _rows() if case == "curated" else _random_rows(int(case.removeprefix("random-")))
    selected = np.random.default_rng(3).random(len(frame)) < 0.3
    fairness = compute_fairness(y_pred=selected.astype(int), sensitive=frame, n_boot=0)
    audit = make_audit("screen", "1", "three-way")
    data = audit.data.model_copy(update={"n_rows": len(frame), "sensitive": list(frame.columns)})
    return frame, audit.model_copy(update={"fairness": fairness, "data": data})


def _member(frame: pd.DataFrame, attribute: AttributeResult, group: GroupResult) -> np.ndarray:
    """The rows of ``group``, from the raw data (independent of the masking code)."""
    columns = attribute.columns
    if group.is_unknown:
        return np.asarray(frame[columns].isna().any(axis=1))
    return np.asarray(np.logical_and.reduce([frame[c] == group.levels[c] for c in columns]))


def _published(frame: pd.DataFrame, result: AuditResult) -> list[tuple[str, str, np.ndarray, int, bool]]:
    """(table, group, rows, count, masked) for every published group, and the overall count (never masked)."""
    masks = masking(result, K)
    seen, out = set(), [("everyone", "everyone", np.ones(len(frame), dtype=bool), len(frame), False)]
    for attribute in result.fairness.attributes:
        if attribute.attribute in seen:
            continue
        seen.add(attribute.attribute)
        for group in attribute.groups:
            rows = _member(frame, attribute, group)
            assert rows.sum() == group.n
            out.append(
                (attribute.attribute, group.group, rows, group.n, group.group in masks[attribute.attribute])
            )
    return out


def test_a_big_group_is_masked_only_to_protect_a_small_one() -> None:
    _frame, result = _audit()
    masks = masking(result, K)
    three_way = next(a for a in result.fairness.attributes if len(a.columns) == 3)
    hidden = masks[three_way.attribute]
    big = next(g for g in three_way.groups if g.n == 888)
    assert big.group not in hidden or hidden[big.group] == "complement"
    assert big.group not in hidden  # in this data, nothing forces it
    for attribute in result.fairness.attributes:
        for group in attribute.groups:
            reason = masks[attribute.attribute].get(group.group)
            small = group.n < K and not group.is_unknown  # an unknown value reveals no one's attribute
            assert (reason == "small") == small, (attribute.attribute, group.group, group.n, reason)
    # hides only what it must: the 3-way table keeps most of its groups
    assert len(hidden) <= len(three_way.groups) // 3, sorted(hidden)
    assert not masks["sex"] and not masks["race"] and not masks["age"]


@pytest.mark.parametrize("case", CASES)
def test_no_masked_count_can_be_derived_by_subtraction(case: str) -> None:
    frame, result = _audit(case)
    published = _published(frame, result)
    _combos, member = _reader_view(frame, result, published)
    derived = []
    for table, name, _, _n, masked in published:  # a total ...
        whole = member[(table, name)]
        for other in {t for t, *_ in published} - {table}:  # ... and the groups of another table inside it
            parts = [
                p
                for p in published
                if p[0] == other and member[p[:2]].any() and not (member[p[:2]] & ~whole).any()
            ]
            if not parts or not (np.logical_or.reduce([member[p[:2]] for p in parts]) == whole).all():
                continue
            hidden = [p[:2] for p in parts if p[4]] + ([(table, name)] if masked else [])
            if len(hidden) == 1:
                derived.append((table, name, other, hidden[0]))
    assert derived == []


def _reader_view(
    frame: pd.DataFrame, result: AuditResult, published: list[tuple[str, str, np.ndarray, int, bool]]
) -> tuple[list[tuple], dict[tuple[str, str], np.ndarray]]:
    """The combinations of levels a reader cannot rule out (every table lists all its non-empty groups), and
    which of them each published group holds, from the group's name and levels alone."""
    levels = [[*sorted(frame[c].dropna().unique()), None] for c in frame.columns]
    combos = list(itertools.product(*levels))
    tables = {p[0] for p in published} - {"everyone"}
    possible = np.logical_and.reduce([_reader_cover(result, t, combos).astype(bool) for t in tables])
    combos = [combo for combo, keep in zip(combos, possible, strict=True) if keep]
    member = {(t, g): _reader_member(frame, result, t, g, combos).astype(bool) for t, g, *_ in published}
    return combos, member


@pytest.mark.parametrize("case", CASES)
def test_no_masked_count_is_pinned_by_all_totals_together(case: str) -> None:
    frame, result = _audit(case)
    published = _published(frame, result)
    _combos, view = _reader_view(frame, result, published)
    member = {key: value.astype(float) for key, value in view.items()}
    a_eq = [member[(t, g)] for t, g, _, _, m in published if not m]
    b_eq = [float(n) for _, _, _, n, m in published if not m]
    masks = masking(result, K)
    a_ub, b_ub = [], []
    for t, g, _, _, m in published:
        if m:
            if masks[t][g] == "small":  # labelled "fewer than K": 1 to K - 1 people
                a_ub += [member[(t, g)], -member[(t, g)]]
                b_ub += [K - 1, -1]
            else:  # labelled "hidden to protect a small group": at least K people
                a_ub.append(-member[(t, g)])
                b_ub.append(-K)
    for t, g, _, n, m in published:
        if not m:
            continue
        values = []
        for sign in (1, -1):
            solved = linprog(
                sign * member[(t, g)], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None)
            )
            assert solved.status == 0
            values.append(sign * solved.fun)
        assert np.floor(values[1] + 1e-6) - np.ceil(values[0] - 1e-6) >= 1, (t, g, n, values)


def _reader_member(
    frame: pd.DataFrame, result: AuditResult, table: str, group: str, combos: list[tuple]
) -> np.ndarray:
    """Which combinations of levels fall in a published group, from its name alone."""
    columns = list(frame.columns)
    if table == "everyone":
        return np.ones(len(combos))
    attribute = next(a for a in result.fairness.attributes if a.attribute == table)
    spec = next(g for g in attribute.groups if g.group == group)
    index = [columns.index(c) for c in attribute.columns]
    if spec.is_unknown:
        return np.array([any(combo[i] is None for i in index) for combo in combos], dtype=float)
    return np.array(
        [all(combo[i] == spec.levels[columns[i]] for i in index) for combo in combos], dtype=float
    )


def _reader_cover(result: AuditResult, table: str, combos: list[tuple]) -> np.ndarray:
    """The combinations some group of ``table`` holds: the table adds up to everyone, so the rest are empty."""
    attribute = next(a for a in result.fairness.attributes if a.attribute == table)
    columns = ["sex", "race", "age"]  # the order of the combinations, as in _reader_view
    index = [columns.index(c) for c in attribute.columns]
    known = {tuple(g.levels[c] for c in attribute.columns) for g in attribute.groups if not g.is_unknown}
    has_unknown = any(g.is_unknown for g in attribute.groups)
    return np.array(
        [
            (has_unknown if any(combo[i] is None for i in index) else tuple(combo[i] for i in index) in known)
            for combo in combos
        ],
        dtype=float,
    )


def test_published_report_labels_masked_cells_and_never_shows_an_empty_table() -> None:
    _, result = _audit()
    text = render_report(result, published=True, min_cell_size=K)
    assert "·" not in text
    assert f"fewer than {K}" in text and "hidden to protect a small group" in text
    tables = _tables(text)
    assert tables and all(len(rows) > 2 for rows in tables)  # a header and its rule are not a table
    for start, rows in _tables_with_positions(text):
        if any(f"fewer than {K}" in row or "hidden to protect" in row for row in rows):
            after = text[start:].split("\n\n", 2)[1]
            assert "hidden" in after and re.search(r"\d+ of \d+ groups", after), after
    assert re.search(r"\d+ of \d+ groups (are )?hidden", text.split("## Results by group")[1][:1500])


def test_a_table_whose_every_group_is_masked_is_replaced_by_a_sentence() -> None:
    sizes = {"a": 3, "b": 4}
    audit = make_audit("m", "1", "tiny", sizes=sizes, rates=dict.fromkeys(sizes, 0.5))
    text = render_report(audit, published=True, min_cell_size=K)
    assert "| a |" not in text and "| b |" not in text
    assert "not published" in text
    assert all(len(rows) > 2 for rows in _tables(text))


def _tables_with_positions(text: str) -> list[tuple[int, list[str]]]:
    out, position = [], 0
    for block in text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines and len(lines) == len(block.strip().splitlines()):
            out.append((position, lines))
        position += len(block) + 2
    return out


def _tables(text: str) -> list[list[str]]:
    return [rows for _, rows in _tables_with_positions(text)]


def test_masking_is_deterministic() -> None:
    _, result = _audit()
    assert masking(result, K) == masking(result.model_copy(deep=True), K)


def _masked_rows_of_html(page: str) -> set[str]:
    """The first cell of every HTML table row that shows a masked label."""
    import html as html_module

    found = set()
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        cells = [
            html_module.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)
        ]
        if any(cell in ("fewer than 10", "hidden to protect a small group") for cell in cells):
            found.add(cells[0])
    return found


def test_every_site_page_masks_alike_labels_and_never_shows_an_empty_table(
    workspace_factory: WorkspaceFactory,  # noqa: F811
) -> None:
    from governance.site import build_site
    from governance.workspace import find_workspace

    _, result = _audit()
    screen = result.model_copy(
        update={"model": result.model.model_copy(update={"name": "screen"}), "audit_id": "three-way"}
    )
    root = workspace_factory(
        screen,
        models={
            "screen": {"is_aedt": True, "distribution_date": "2026-01-15", "ll144_data_source": "Historical"}
        },
    )
    build_site(find_workspace(root))
    generated = root / "docs" / "generated"
    masks = masking(screen, K)
    three_way = next(a for a in screen.fairness.attributes if len(a.columns) == 3)
    hidden = sorted(masks[three_way.attribute])
    pages = {
        "audit": next((generated / "audits").rglob("index.md")).read_text(encoding="utf-8"),
        "model": (generated / "models" / "screen.md").read_text(encoding="utf-8"),
        "ll144": (generated / "ll144" / "screen.md").read_text(encoding="utf-8"),
    }
    # The audit page keeps each attribute's tables; its largest tables (the intersections) are one click away in
    # its details file, masked the same way.
    details = next((root / "site" / "generated" / "audits").rglob("details.html")).read_text(encoding="utf-8")
    for page, text in pages.items():
        assert "·" not in text and "| masked |" not in text, page
        assert re.search(r"\d+ of \d+ groups are hidden", text), page  # how much this page hides
        rows = {
            line.split("|")[1].strip().replace("&#215;", "×")
            for line in text.splitlines()
            if "| fewer than 10 |" in line or "| hidden to protect a small group |" in line
        }
        if page == "audit":
            rows |= _masked_rows_of_html(details)
        assert {name for name in hidden} <= rows, (page, sorted(set(hidden) - rows))
        assert "888" in (text + details if page == "audit" else text), page  # the big group stays visible
        for start, table in _tables_with_positions(text.replace("| --- |", "|---|")):
            assert len(table) > 2, (page, table)  # never a header alone
            if any("fewer than" in row or "hidden to protect" in row for row in table):
                assert re.search(r"\d+ of \d+ groups hidden in this table", text[start : start + 20000]), page


@pytest.mark.parametrize("value", ["ten", "-3", "true", "2.5"])
def test_a_wrong_min_cell_size_stops_the_build_with_one_sentence(
    value: str,
    workspace_factory: WorkspaceFactory,  # noqa: F811
) -> None:
    import subprocess
    import sys

    root = workspace_factory(make_audit("m", "1", "a1"))
    config = root / "governance.yaml"
    text = config.read_text(encoding="utf-8")
    assert "min_cell_size" in text
    config.write_text(re.sub(r"min_cell_size: *\S+", f"min_cell_size: {value}", text), encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "governance", "site", "build", "--workspace", str(root), "--no-mkdocs"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "site.min_cell_size" in run.stderr and "whole number" in run.stderr, run.stderr
    docs = root / "docs"
    assert not any((docs / "generated").rglob("*.md"))  # nothing half-written
    assert not list(docs.glob(".generated-new-*"))


def test_masked_groups_of_a_margin_never_all_share_one_outcome() -> None:
    # a and b are small and nobody in them was selected: total minus the visible groups would say "0 of them"
    sizes, chosen = {"a": 3, "b": 4, "c": 50, "d": 60}, {"a": 0, "b": 0, "c": 20, "d": 30}
    groups = [name for name, n in sizes.items() for _ in range(n)]
    picked = [1 if i < chosen[name] else 0 for name, n in sizes.items() for i in range(n)]
    fairness = compute_fairness(y_pred=picked, sensitive=pd.DataFrame({"team": groups}), n_boot=0)
    audit = make_audit("m", "1", "outcomes").model_copy(update={"fairness": fairness})
    hidden = masking(audit, K)["team"]
    assert {"a", "b"} <= set(hidden) and len(hidden) == 3, hidden
    counts = {g.group: (g.n, round(g.counts["selection_rate"].k)) for g in fairness.attributes[0].groups}
    masked_n = sum(counts[name][0] for name in hidden)
    masked_selected = sum(counts[name][1] for name in hidden)
    assert 0 < masked_selected < masked_n  # a reader can no longer tell that nobody in a or b was selected


def test_a_small_group_of_unknowns_is_shown_and_costs_no_big_group() -> None:
    # random-1 has 9 people of unknown age: showing them reveals nobody's age; masking them would have cost a
    # large age group (the table's total is the number of rows) and, through the intersections' groups of
    # unknowns, whole tables
    _, result = _audit("random-1")
    masks = masking(result, K)
    unknown_age = next(
        g for a in result.fairness.attributes if a.attribute == "age" for g in a.groups if g.is_unknown
    )
    assert unknown_age.n < K and unknown_age.group not in masks["age"]
    assert not masks["sex"] and not masks["race"] and not masks["age"]
