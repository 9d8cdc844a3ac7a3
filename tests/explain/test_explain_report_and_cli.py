"""The explanation section, its figures, and `governance explain` end to end on a skops model."""

from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.audit.explain import explain_model
from governance.cli.main import cli
from governance.intake.model_files import save_model
from governance.report.explain import escape, render_explanation_markdown
from governance.report.explain_figures import write_explanation_figures
from governance.results.explain import ExplanationResult

HOSTILE = "<script>alert(1)</script>|*x*"


@pytest.fixture(scope="module")
def hostile_result() -> ExplanationResult:
    """A result whose feature, attribute and group names try to break Markdown and HTML."""
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame({HOSTILE: rng.choice(["a|b", "<b>"], size=n), "plain": rng.normal(size=n)})
    y = (X["plain"] + (X[HOSTILE] == "a|b") + rng.normal(size=n) > 0.5).astype(int)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), [HOSTILE]), (StandardScaler(), ["plain"])),
        LogisticRegression(),
    ).fit(X, y)
    sensitive = pd.DataFrame({"[group](javascript:x)": rng.choice(["<i>one</i>", "two|three"], size=n)})
    return explain_model(model, X, sensitive=sensitive, n_boot=30)


def test_markdown_escapes_user_supplied_names(hostile_result: ExplanationResult) -> None:
    text = render_explanation_markdown(hostile_result, figures=None)
    assert "<script>" not in text and "<i>" not in text and "<b>" not in text
    assert not re.search(r"(?<!\\)\]\(javascript", text)  # brackets escaped: no link is formed
    assert "&lt;script&gt;" in text
    # Every row of a table has as many unescaped pipes as its header: no name splits a cell.
    widths: list[int] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            widths.append(len(re.findall(r"(?<!\\)\|", line)))
        elif widths:
            assert len(set(widths)) == 1, widths
            widths = []
    assert escape("a|b") == "a\\|b"


def test_markdown_reads_plain_words_first_then_tables(hostile_result: ExplanationResult) -> None:
    text = render_explanation_markdown(
        hostile_result, figures={"importance": "figures/imp.svg"}, heading_level=3
    )
    lines = text.splitlines()
    assert lines[0] == "### Explainability"
    assert lines[2].startswith("**What drives the model.**")
    assert text.index("**Possible proxies.**") < text.index("#### How this was computed")
    assert "![Mean absolute SHAP value per feature with intervals](figures/imp.svg)" in text
    assert "| Rank | Feature |" in text and "#### Proxy screen" in text and "#### By group" in text


def test_figures_are_valid_svg_and_png(hostile_result: ExplanationResult, tmp_path: Path) -> None:
    written = write_explanation_figures(hostile_result, tmp_path / "figures")
    assert set(written) == {"importance", "beeswarm", "groups:[group](javascript:x)"}
    for name in written.values():
        svg = tmp_path / "figures" / name
        assert ET.parse(svg).getroot().tag.endswith("svg")
        png = svg.with_suffix(".png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.stat().st_size > 1000
    assert all("/" not in name and ".." not in name for name in written.values())


def test_each_figure_is_drawn_once_without_matplotlib(
    hostile_result: ExplanationResult, tmp_path: Path, saved_canvases: list[tuple[str, Any]]
) -> None:
    """Issue 13, point 3: matplotlib's import and drawing were about 2 s of processor time of a 1,000-row audit;
    the house charts draw each figure once, as one SVG and one PNG from the same primitives."""
    written = write_explanation_figures(hostile_result, tmp_path / "figures")
    saved = [stem for stem, _ in saved_canvases]
    assert len(written) == 3 and sorted(saved) == sorted(
        name.removesuffix(".svg") for name in written.values()
    )
    assert len({path.name for path in (tmp_path / "figures").iterdir()}) == 6  # one SVG and one PNG each


def test_explanation_figures_keep_their_text_inside_and_are_reproducible(
    hostile_result: ExplanationResult, tmp_path: Path, saved_canvases: list[tuple[str, Any]]
) -> None:
    """Long feature and group names stay inside the picture, and the same result gives the same bytes."""
    from governance.report.charts import text_width

    write_explanation_figures(hostile_result, tmp_path / "a")
    write_explanation_figures(hostile_result, tmp_path / "b")
    for canvas in (canvas for _, canvas in saved_canvases):
        for item in (item for item in canvas.items if item[0] == "text"):
            _, x, _y, text, size, anchor, _colour, bold = item
            width = text_width(text, size, bold=bold)
            left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
            assert left >= 0 and left + width <= canvas.width, (text, left, canvas.width)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("explain-cli")
    rng = np.random.default_rng(1)
    n = 250
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:03d}" for i in range(n)],
            "housing": rng.choice(["own", "rent"], size=n),
            "duration": rng.integers(6, 60, size=n),
            "sex": rng.choice(["female", "male"], size=n),
        }
    )
    frame["good"] = (
        (frame["housing"] == "own") * 1.0 - 0.03 * frame["duration"] + rng.normal(size=n) > -0.5
    ).astype(int)
    frame.to_csv(folder / "holdout.csv", index=False)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["housing"]), (StandardScaler(), ["duration"])),
        LogisticRegression(),
    ).fit(frame[["housing", "duration"]], frame["good"])
    save_model(model, folder / "model.skops")
    return folder


def run(workspace: Path, *args: str):  # type: ignore[no-untyped-def]
    base = ["explain", "--model", str(workspace / "model.skops"), "--data", str(workspace / "holdout.csv")]
    return CliRunner().invoke(cli, [*base, *args], catch_exceptions=False)


def test_cli_global_explanation_writes_markdown_json_and_figures(workspace: Path) -> None:
    out = workspace / "out"
    result = run(
        workspace, "--sensitive", "sex", "--target", "good", "--output", str(out), "--explain-budget", "20"
    )
    assert result.exit_code == 0, result.output
    assert "Explained 250 of 250 rows with shap LinearExplainer" in result.output
    data = json.loads((out / "explanation.json").read_text())
    assert ExplanationResult.model_validate(data).features == ["housing", "duration"]
    markdown = (out / "explanation.md").read_text()
    assert markdown.startswith("# Explainability")
    for link in (
        "figures/explain_importance.svg",
        "figures/explain_beeswarm.svg",
        "figures/explain_groups_sex.svg",
    ):
        assert link in markdown and (out / link).is_file()
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging leftovers


def test_cli_row_prints_one_statement(workspace: Path) -> None:
    frame = pd.read_csv(workspace / "holdout.csv")
    result = run(workspace, "--sensitive", "sex", "--id-column", "applicant_id", "--row", "A007")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("The decision for A007 was ")
    assert "sex" not in result.output
    by_position = run(workspace, "--sensitive", "sex", "--row", "7")
    assert by_position.output.replace("row 7", "A007") == result.output
    assert len(frame) == 250


def test_cli_batch_writes_a_csv_for_every_adverse_decision(workspace: Path) -> None:
    target = workspace / "reasons.csv"
    result = run(workspace, "--sensitive", "sex", "--id-column", "applicant_id", "--batch", str(target))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open()))
    assert rows and all(row["decision"] == "0" for row in rows)
    assert list(rows[0]) == [
        "applicant_id",
        "decision",
        "score",
        "reason_1",
        "reason_2",
        "reason_3",
        "reason_4",
        "statement",
    ]
    assert {row["reason_1"] for row in rows} <= {"housing", "duration"}
    assert f"{len(rows)} adverse decision(s)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--row", "Z999", "--id-column", "applicant_id"], "No row has applicant_id = 'Z999'"),
        (["--row", "9999"], "outside the data"),
        (["--sensitive", "nope"], "nope"),
        (["--positive-label", "maybe"], "not one of the model's classes"),
    ],
)
def test_cli_bad_input_gets_one_sentence_and_exit_2(workspace: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "explain",
            "--model",
            str(workspace / "model.skops"),
            "--data",
            str(workspace / "holdout.csv"),
            "--output",
            str(workspace / "bad"),
            *args,
        ],
    )
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (workspace / "bad" / "explanation.json").exists()


def test_cli_row_and_batch_together_is_a_usage_error(workspace: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "explain",
            "--model",
            str(workspace / "model.skops"),
            "--data",
            str(workspace / "holdout.csv"),
            "--row",
            "1",
            "--batch",
            "x.csv",
        ],
    )
    assert result.exit_code == 2
    assert "not both" in result.output


@pytest.fixture
def uses_sex(tmp_path: Path) -> Path:
    """A model trained on sex among its inputs, and holdout data with an id, the target and a column it never saw."""
    rng = np.random.default_rng(4)
    n = 240
    frame = pd.DataFrame(
        {
            "applicant_id": np.arange(n),
            "housing": rng.choice(["own", "rent"], n),
            "sex": rng.choice(["female", "male"], n),
            "duration": rng.integers(6, 60, n),
            "branch": rng.choice(["x", "y"], n),
        }
    )
    frame["good"] = (
        (frame["housing"] == "own")
        + 0.5 * (frame["sex"] == "male")
        - 0.02 * frame["duration"]
        + rng.normal(size=n)
        > 0
    ).astype(int)
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["sex", "housing"]), (StandardScaler(), ["duration"])),
        LogisticRegression(),
    ).fit(frame[["sex", "housing", "duration"]], frame["good"])
    save_model(model, tmp_path / "model.skops")
    return tmp_path


def test_explain_and_audit_feed_the_model_the_same_columns_from_one_rule(
    uses_sex: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import governance.intake.data as intake

    calls: list[str] = []
    shared = intake.choose_input_columns

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(kwargs["source"])
        return shared(*args, **kwargs)

    monkeypatch.setattr(intake, "choose_input_columns", spy)
    model, data = str(uses_sex / "model.skops"), str(uses_sex / "holdout.csv")
    explained = CliRunner().invoke(
        cli,
        [
            "explain",
            "--model",
            model,
            "--data",
            data,
            "--sensitive",
            "sex",
            "--target",
            "good",
            "--id-column",
            "applicant_id",
            "--output",
            str(uses_sex / "out"),
            "--explain-budget",
            "20",
        ],
    )
    assert explained.exit_code == 0, explained.output
    explanation = json.loads((uses_sex / "out" / "explanation.json").read_text())
    audited = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(uses_sex),
            "--no-register",
            "--n-boot",
            "20",
            "--explain-budget",
            "20",
            "--model",
            model,
            "--data",
            data,
            "--target",
            "good",
            "--sensitive",
            "sex",
            "--id",
            "applicant_id",
            "--json",
            "-",
        ],
    )
    assert audited.exit_code in {0, 1, 3}, audited.output
    document = json.loads(audited.output)
    assert explanation["features"] == document["data"]["features"] == ["sex", "housing", "duration"]
    assert explanation["sensitive_features_in_model"] == document["model"]["sensitive_inputs"] == ["sex"]
    assert document["explanation"]["features"] == ["sex", "housing", "duration"]
    assert calls.count("holdout.csv") >= 2  # explain and audit both asked the one rule


def test_explain_and_audit_name_a_missing_model_column_the_same_way(uses_sex: Path) -> None:
    frame = pd.read_csv(uses_sex / "holdout.csv")
    frame.drop(columns=["duration"]).to_csv(uses_sex / "short.csv", index=False)
    model, data = str(uses_sex / "model.skops"), str(uses_sex / "short.csv")
    explained = CliRunner().invoke(
        cli,
        [
            "explain",
            "--model",
            model,
            "--data",
            data,
            "--sensitive",
            "sex",
            "--output",
            str(uses_sex / "out"),
        ],
    )
    audited = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(uses_sex),
            "--no-register",
            "--model",
            model,
            "--data",
            data,
            "--target",
            "good",
            "--sensitive",
            "sex",
        ],
    )
    message = (
        "Error: The model was trained on the column(s) 'duration', which short.csv lacks; add them to the data, "
        "or name the model's input columns with --features.\n"
    )
    assert (explained.exit_code, explained.output) == (audited.exit_code, audited.output) == (2, message)


@pytest.mark.parametrize(
    ("low", "high"), [(0.0, 0.69), (-1.08, 1.05), (0.0, 3e-12), (0.0, 0.0), (-5e6, 2e6), (0.2, 0.2)]
)
def test_figure_axes_have_round_ticks_around_the_values(low: float, high: float) -> None:
    """SHAP values can be tiny, huge, one-sided or all equal: the axis still has distinct ticks covering them."""
    from governance.report.explain_figures import signed_ticks

    ticks = signed_ticks(low, high)
    assert len(ticks) >= 2 and ticks == sorted(set(ticks))
    assert ticks[0] <= low and ticks[-1] >= high
