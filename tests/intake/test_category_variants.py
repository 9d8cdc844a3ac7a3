"""Categories of a sensitive column that differ only in case or spaces ("Female", "female ") are flagged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.intake.data import case_variant_notes

NOTE = (
    "The sensitive column 'sex' has categories that differ only in capital letters or spaces: 'Female' and "
    "'female ', 'Male' and 'male'. They are audited as separate groups; clean the column (one spelling per "
    "category, no leading or trailing spaces) and audit again."
)


def test_variants_are_found_by_case_and_surrounding_spaces() -> None:
    assert case_variant_notes({"sex": ["Female", "Male", "female ", "male"], "race": ["A", "B"]}) == [NOTE]
    assert case_variant_notes({"sex": ["female", "male"], "race": ["a", "A"]}) == [
        "The sensitive column 'race' has categories that differ only in capital letters or spaces: 'A' and 'a'. "
        "They are audited as separate groups; clean the column (one spelling per category, no leading or trailing "
        "spaces) and audit again."
    ]
    assert case_variant_notes({"sex": ["F", "M"], "age": ["18-24", "25-49"]}) == []


def _log(rng: np.random.Generator, sexes: list[str], n: int = 600) -> pd.DataFrame:
    return pd.DataFrame({"sex": rng.choice(sexes, size=n), "hired": rng.integers(0, 2, size=n)})


@pytest.mark.parametrize("suffix", [".csv", ".parquet"], ids=["csv", "streamed-parquet"])
def test_the_audit_flags_variants_in_terminal_report_and_audit_json(tmp_path: Path, suffix: str) -> None:
    frame = _log(np.random.default_rng(0), ["Female", "female ", "Male", "male"])
    data = tmp_path / f"log{suffix}"
    frame.to_csv(data, index=False) if suffix == ".csv" else frame.to_parquet(data, index=False)
    args = [
        "audit",
        "screen@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--data",
        str(data),
        "--predictions",
        "hired",
        "--sensitive",
        "sex",
        "--policy",
        "four-fifths",
        "--n-boot",
        "50",
        "--no-figures",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in {0, 1, 3}, result.output
    assert f"Note: {NOTE}" in " ".join(result.output.split())
    folder = next((tmp_path / "audits" / "screen" / "1").iterdir())
    audit = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    assert NOTE in audit["fairness"]["notes"]
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "differ only in capital letters or spaces" in report and "clean the column" in report


def test_a_clean_column_gets_no_note(tmp_path: Path) -> None:
    data = tmp_path / "log.csv"
    _log(np.random.default_rng(1), ["female", "male"]).to_csv(data, index=False)
    args = [
        "audit",
        "screen@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--data",
        str(data),
        "--predictions",
        "hired",
        "--sensitive",
        "sex",
        "--policy",
        "four-fifths",
        "--n-boot",
        "50",
        "--no-figures",
        "--json",
        "-",
    ]
    result = CliRunner().invoke(cli, args)
    assert "capital letters" not in result.output
    assert not [note for note in json.loads(result.stdout)["fairness"]["notes"] if "capital letters" in note]
