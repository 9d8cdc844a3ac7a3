"""Issue 13, point 3: a small audit of a model spends its time on the audit, not on libraries it does not use.

The demo model is a scikit-learn Pipeline with a LogisticRegression: it is explained on the toolkit's own exact
linear path (no shap), and every figure is drawn with the house charts (no matplotlib, whose import and drawing
were about 2 s of processor time of a 1,000-row audit). What an audit cannot avoid (scikit-learn, which skops
imports to read the model) is measured in benchmarks/latency, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_support import WATCH_IMPORTS

from governance.paths import demo_data

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "demo" / "models" / "credit-risk-1.1.0.skops"
UNUSED = ("matplotlib", "shap", "numba", "sqlalchemy")


def _loaded_by_audit(tmp_path: Path, *extra: str) -> list[str]:
    """The packages among ``UNUSED`` that a whole ``governance audit`` of the demo model imported."""
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    loaded = tmp_path / "loaded.json"
    args = ["audit", "credit-risk@1.1.0", "--no-register", "--workspace", str(tmp_path)]
    args += ["--model", str(MODEL), "--data", str(demo_data()), "--target", "risk", "--sensitive", "sex"]
    args += ["--n-boot", "20", "--json", str(tmp_path / "a.json"), *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run(
        [sys.executable, "-c", WATCH_IMPORTS.format(watched=UNUSED), str(loaded), *args],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert run.returncode in (0, 1, 3), run.stderr
    assert json.loads((tmp_path / "a.json").read_text())["data"]["n_rows"] > 0
    found: list[str] = json.loads(loaded.read_text())
    return found


@pytest.mark.parametrize("explain", [True, False], ids=["with the explanation", "--no-explain"])
def test_an_audit_of_a_linear_model_imports_no_shap_and_no_matplotlib(tmp_path: Path, explain: bool) -> None:
    extra = () if explain else ("--no-explain",)
    assert _loaded_by_audit(tmp_path, *extra) == []


def test_the_explanation_and_its_figures_are_in_the_audit(tmp_path: Path) -> None:
    """The same audit still explains the model and draws its figures (the test above is not vacuous)."""
    _loaded_by_audit(tmp_path)
    written = json.loads((tmp_path / "a.json").read_text())
    assert written["explanation"]["rows_explained"] > 0
    folders = list((tmp_path / "audits").glob("*/*/*/figures"))
    assert len(folders) == 1
    names = {path.name for path in folders[0].iterdir()}
    assert {"explain_importance.svg", "explain_importance.png", "explain_beeswarm.png"} <= names


def test_every_figure_of_an_audit_is_drawn_once(
    tmp_path: Path, saved_canvases: list[tuple[str, Any]]
) -> None:
    """Counted work: each figure (fairness, trade-off, calibration, explanation) is laid out and written once,
    as one SVG and one PNG, and the model's own figures are all in the folder."""
    from governance.audit.run import audit
    from governance.workspace import Workspace

    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    outcome = audit(
        name="credit-risk", version="1.1.0", model=MODEL, data=demo_data(), target="risk", sensitive=["sex"],
        n_boot=20, workspace=Workspace(root=tmp_path),
    )  # fmt: skip
    assert outcome.folder is not None
    drawn = [stem for stem, _ in saved_canvases]
    files = sorted(path.name for path in (outcome.folder / "figures").iterdir())
    assert len(drawn) == len(set(drawn)) and len(files) == 2 * len(drawn)
    assert {"explain_importance", "explain_beeswarm", "explain_groups_sex"} <= set(drawn)
