"""Linear models are explained in shap's own arithmetic without importing shap (issue 13, point 3): importing
shap loads matplotlib, numba and more, a second or two of every audit of a linear model, for one subtraction and
one product. The values must be shap's, bit for bit, and an audit of the demo's logistic model must not load shap."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shap
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from governance.audit.explain.attribution import LinearAttribution
from governance.intake.model_files import load_model

REPO = Path(__file__).resolve().parents[2]
DEMO_MODEL = REPO / "demo" / "models" / "credit-risk-1.1.0.skops"


def _shaps(model: Any, background: np.ndarray, rows: np.ndarray) -> np.ndarray:
    explainer = shap.LinearExplainer(model, shap.maskers.Independent(background, max_samples=len(background)))
    return np.asarray(explainer.shap_values(rows), dtype=float)


def _data(seed: int, columns: int = 6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(300, columns)) * rng.uniform(0.1, 50, size=columns)
    return matrix[:100], matrix[100:]


def _fitted(kind: str, background: np.ndarray, rows: np.ndarray) -> Any:
    matrix = np.vstack([background, rows])
    signal = matrix @ np.linspace(-1, 1, matrix.shape[1]) / np.abs(matrix).mean()
    if kind == "binary":
        return LogisticRegression(max_iter=2000).fit(matrix, signal > 0)
    if kind == "multiclass":
        return LogisticRegression(max_iter=2000).fit(matrix, np.digitize(signal, [-0.5, 0.5]))
    if kind == "ridge-two-outputs":
        return Ridge().fit(matrix, np.column_stack([signal, -2 * signal]))
    return LinearRegression().fit(matrix, signal)


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression", "ridge-two-outputs"])
def test_values_are_shaps_bit_for_bit(kind: str) -> None:
    background, rows = _data(seed=len(kind))
    model = _fitted(kind, background, rows)
    ours = np.asarray(LinearAttribution(model, background).shap_values(rows), dtype=float)
    theirs = _shaps(model, background, rows)
    assert ours.shape == theirs.shape
    assert np.array_equal(ours, theirs)


def test_the_demo_pipeline_is_explained_as_shap_explains_it() -> None:
    import pandas as pd

    from governance.audit.explain.view import to_model_matrix
    from governance.paths import demo_data

    pipeline = load_model(DEMO_MODEL).estimator
    frame = pd.read_csv(demo_data())
    frame = frame[list(pipeline.feature_names_in_)]
    matrix = to_model_matrix(pipeline[:-1], frame)
    background, rows = matrix[:100], matrix[100:400]
    ours = LinearAttribution(pipeline[-1], background).shap_values(rows)
    assert np.array_equal(np.asarray(ours, dtype=float), _shaps(pipeline[-1], background, rows))


def test_a_model_without_coefficients_is_refused_as_shap_refuses_it() -> None:
    with pytest.raises(AttributeError):
        LinearAttribution(object(), np.zeros((3, 2)))


def test_an_audit_of_a_linear_model_with_its_explanation_does_not_import_shap(tmp_path: Path) -> None:
    """Today's code imported shap (and with it matplotlib's pyplot and numba) for the logistic demo model."""
    import pandas as pd

    from governance.demo.run import age_band
    from governance.paths import demo_data

    frame = pd.read_csv(demo_data()).head(300)
    frame["age_band"] = frame["age"].map(age_band)
    frame.to_csv(tmp_path / "holdout.csv", index=False)
    code = (
        "import json, sys\n"
        "from governance.cli.main import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "print(json.dumps({'code': code, 'shap': 'shap' in sys.modules, 'numba': 'numba' in sys.modules}))\n"
    )
    args = ["audit", "credit@1.1.0", "--no-register", "--model", str(DEMO_MODEL), "--data", "holdout.csv"]
    args += ["--target", "risk", "--sensitive", "sex", "--output", str(tmp_path / "audits"), "--n-boot", "50"]
    completed = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PYTHONPATH": str(REPO),
            "GOVERNANCE_ACTOR": "a@x",
        },
        check=False,
    )
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    assert found["code"] in (0, 1, 3), completed.stderr
    audit = json.loads(next((tmp_path / "audits").rglob("audit.json")).read_text(encoding="utf-8"))
    assert audit["explanation"]["explainer_class"] == "LinearExplainer", audit.get("explanation_error")
    assert (found["shap"], found["numba"]) == (False, False)
