"""Model intake: skops with an allow-list, pickles only when their SHA-256 was vouched for."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
import pytest
import skops.io as sio
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from governance.errors import InputError, RefusedInputError
from governance.intake.model_files import Vouching, load_model, save_model
from governance.provenance import sha256_file

X = np.random.default_rng(0).normal(size=(60, 3))
y = (X[:, 0] > 0).astype(int)


def test_skops_linear_model_loads_with_nothing_extra_trusted(tmp_path: Path) -> None:
    path = tmp_path / "m.skops"
    sio.dump(LogisticRegression().fit(X, y), path)
    loaded = load_model(path)
    assert loaded.loader == "skops (safe loader)" and loaded.trusted_types == []
    assert loaded.sha256 == sha256_file(path)


def test_tree_type_on_the_allow_list_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rf.skops"
    sio.dump(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y), path)
    assert load_model(path).trusted_types == ["sklearn.tree._tree.Tree"]


def test_type_off_the_allow_list_is_refused_until_vouched_for(tmp_path: Path) -> None:
    path = tmp_path / "hgb.skops"
    sio.dump(HistGradientBoostingClassifier(max_iter=3).fit(X, y), path)
    with pytest.raises(RefusedInputError, match="TreePredictor") as error:
        load_model(path)
    assert error.value.exit_code == 4
    loaded = load_model(path, trust_sha256=sha256_file(path))
    assert "vouched" in loaded.loader


@pytest.mark.parametrize("suffix", [".pkl", ".joblib"])
def test_pickles_need_a_matching_hash(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"m{suffix}"
    model = LogisticRegression().fit(X, y)
    if suffix == ".pkl":
        path.write_bytes(pickle.dumps(model))
    else:
        joblib.dump(model, path)
    digest = sha256_file(path)
    with pytest.raises(RefusedInputError, match=f"pass trust_sha256='{digest}'"):
        load_model(path)
    with pytest.raises(RefusedInputError, match="does not match"):
        load_model(path, trust_sha256="0" * 64)
    assert load_model(path, trust_sha256=digest).loader.endswith("(trusted by SHA-256)")
    with pytest.raises(
        RefusedInputError, match="nobody vouched for it"
    ):  # a pin says which file, not that it is safe
        load_model(path, pinned_sha256=digest)
    vouched = load_model(
        path, pinned_sha256=digest, vouching=Vouching(digest, "ds@x", "2026-11-23T10:00:00Z")
    )
    assert vouched.estimator.predict(X).shape == (60,)
    assert (vouched.vouched_by, vouched.vouched_at) == ("ds@x", "2026-11-23T10:00:00Z")


def test_pinned_hash_mismatch_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.skops"
    sio.dump(LogisticRegression().fit(X, y), path)
    with pytest.raises(RefusedInputError, match="no longer matches the SHA-256 pinned"):
        load_model(path, pinned_sha256="f" * 64)


def test_missing_damaged_and_unknown_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_model(tmp_path / "none.skops")
    damaged = tmp_path / "bad.skops"
    damaged.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a readable skops file"):
        load_model(damaged)
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"x")
    with pytest.raises(InputError, match="with predictions COL instead"):
        load_model(onnx)


def test_save_model_is_reproducible_and_loads(tmp_path: Path) -> None:
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    first = save_model(model, tmp_path / "a.skops")
    second = save_model(model, tmp_path / "b.skops")
    assert first == second == sha256_file(tmp_path / "a.skops")
    restored = load_model(tmp_path / "a.skops").estimator
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
