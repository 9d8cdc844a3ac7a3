"""Fixtures for curves and mitigation (helpers in ``mitigation_support``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from mitigation_support import fit, make_frame

from governance.intake.model_files import save_model


@pytest.fixture
def biased_credit(tmp_path: Path) -> dict[str, Path]:
    train, holdout = make_frame(3000, seed=1), make_frame(2000, seed=2)
    paths = {
        "train": tmp_path / "train.csv",
        "holdout": tmp_path / "holdout.csv",
        "model": tmp_path / "model.skops",
    }
    train.to_csv(paths["train"], index=False)
    holdout.to_csv(paths["holdout"], index=False)
    save_model(fit(train), paths["model"])
    return {**paths, "root": tmp_path}
