"""Models from an MLflow registry, in and out, offline: one local SQLite tracking store for the whole module.

``models:/NAME/VERSION`` and ``models:/NAME@ALIAS`` load through the toolkit's own loader (skops allow-list, pickles
only with ``--trust``); ``register version`` and ``register import-mlflow`` pin the model file's SHA-256, so a model
replaced in MLflow under the same version is refused; ``--mlflow-tags`` writes the verdict back, and only then.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from governance.cli.main import cli
from governance.register import Register

if os.environ.get("GOVERNANCE_TEST_REQUIRE_SERVICES"):
    import mlflow  # CI installs governance[mlflow] (scripts/test.sh): without it these tests fail, never skip
else:
    mlflow = pytest.importorskip(
        "mlflow", reason="these tests need governance[mlflow]: pip install -e '.[mlflow]'"
    )

FAST = ["--n-boot", "200", "--no-explain", "--quiet", "--no-figures"]
VERDICTS = (0, 1, 3)  # passed, failed, inconclusive: what the data says is not what these tests are about


def _frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 10, size=n)
    tenure = rng.integers(0, 20, size=n).astype(float)
    label = (rng.random(n) < 1 / (1 + np.exp(-0.15 * (income - 50)))).astype(int)
    group = rng.choice(["A", "B"], size=n, p=[0.6, 0.4])
    return pd.DataFrame(
        {"id": np.arange(n), "income": income, "tenure": tenure, "group": group, "label": label}
    )


def _fit(frame: pd.DataFrame, c: float = 1.0) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c).fit(frame[["income", "tenure"]], frame["label"])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One tracking store: credit (v1 skops with alias champion, v2 skops), credit-pickle (v1 cloudpickle),
    credit-swap (v1 skops, whose file a test replaces), credit-tagfail (v1, deleted during an audit),
    credit-tagstop (v1, stopped while tagged)."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    frame = _frame()
    data = root / "holdout.csv"
    frame.to_csv(data, index=False)
    previous = os.environ.get("MLFLOW_TRACKING_URI")
    os.environ["MLFLOW_TRACKING_URI"] = uri
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.create_experiment("governance-tests", artifact_location=(root / "artifacts").as_uri())
    client = mlflow.MlflowClient(tracking_uri=uri)
    logged: dict[str, Any] = {}

    def log(name: str, model: Any, **options: Any) -> Any:
        with mlflow.start_run(experiment_id=experiment) as run:
            info = mlflow.sklearn.log_model(
                model, name="model", registered_model_name=name, pip_requirements=[], **options
            )
        logged[f"{name}/{info.registered_model_version}"] = run.info.run_id
        return info

    model = _fit(frame)
    signature = infer_signature(frame[["income", "tenure"]], model.predict(frame[["income", "tenure"]]))
    log("credit", model, signature=signature)
    client.set_registered_model_alias("credit", "champion", "1")
    log("credit", _fit(frame, c=0.5))
    log("credit-pickle", model, serialization_format="cloudpickle")
    swap = log("credit-swap", model)
    first = client.get_model_version("credit", "1")
    client.create_registered_model("credit-tagfail")
    client.create_model_version("credit-tagfail", first.source, run_id=first.run_id)
    client.create_registered_model("credit-tagstop")
    client.create_model_version("credit-tagstop", first.source, run_id=first.run_id)
    try:
        yield {
            "uri": uri,
            "root": root,
            "data": data,
            "frame": frame,
            "client": client,
            "runs": logged,
            "swap_model_id": swap.model_id,
        }
    finally:
        if previous is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = previous


@pytest.fixture
def env(store: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store["uri"])
    return store


def _cli(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _audit(root: Path, data: Path, reference: str, *args: str) -> Result:
    return _cli(
        "audit",
        reference,
        "--workspace",
        str(root),
        "--data",
        str(data),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
        *FAST,
        *args,
    )


def _files(root: Path) -> list[Path]:
    """Every file under ``root`` but SQLite's own journal files, which come and go as the register is opened."""
    found = root.rglob("*") if root.exists() else []
    return sorted(p for p in found if p.is_file() and not p.name.endswith(("-wal", "-shm")))


def _governance_tags(client: Any, name: str, version: str) -> dict[str, str]:
    tags = client.get_model_version(name, version).tags
    return {key: value for key, value in tags.items() if key.startswith("governance.")}


# ---------------------------------------------------------------- loading


def test_a_version_and_an_alias_load_the_same_model_with_the_safe_loader(env: dict[str, Any]) -> None:
    from governance.intake.mlflow_models import load_any_model

    by_version = load_any_model("models:/credit/1")
    by_alias = load_any_model("models:/credit@champion")
    assert by_version.sha256 == by_alias.sha256
    assert by_alias.source == by_version.source == "models:/credit/1"  # the alias is resolved to its number
    assert by_version.loader == "skops (safe loader)" and by_version.vouched_by is None
    X = env["frame"][["income", "tenure"]]
    assert (by_alias.estimator.predict(X) == _fit(env["frame"]).predict(X)).all()
    assert load_any_model("models:/credit/2").sha256 != by_version.sha256


def test_a_one_off_audit_of_an_mlflow_model_names_its_uri_and_hash(
    env: dict[str, Any], tmp_path: Path
) -> None:
    from governance.intake.mlflow_models import load_any_model

    result = _audit(tmp_path, env["data"], "credit@1", "--no-register", "--model", "models:/credit@champion")
    assert result.exit_code in VERDICTS, result.output
    (audit_json,) = (tmp_path / "audits" / "credit" / "1").glob("*/audit.json")
    model = json.loads(audit_json.read_text())["model"]
    assert model["path"] == "models:/credit/1"
    assert model["sha256"] == load_any_model("models:/credit/1").sha256
    assert _governance_tags(env["client"], "credit", "1") == {}  # never written without --mlflow-tags


def test_explain_takes_an_mlflow_model(env: dict[str, Any], tmp_path: Path) -> None:
    result = _cli(
        "explain",
        "--model",
        "models:/credit/1",
        "--data",
        str(env["data"]),
        "--id-column",
        "id",
        "--sensitive",
        "group",
        "--target",
        "label",
        "--row",
        "3",
        "--output",
        str(tmp_path / "out"),
    )
    assert result.exit_code == 0, result.output


def test_a_pickled_mlflow_model_is_refused_without_trust(env: dict[str, Any], tmp_path: Path) -> None:
    from governance.intake.mlflow_models import check_mlflow_model

    check, found, _ = check_mlflow_model("models:/credit-pickle/1")
    assert found.serialization == "cloudpickle" and check.needs_vouching
    result = _audit(
        tmp_path, env["data"], "credit-pickle@1", "--no-register", "--model", "models:/credit-pickle/1"
    )
    assert result.exit_code == 4
    assert result.output == (
        "Error: models:/credit-pickle/1 (model.pkl) is a pkl file, which can run any code when loaded, and nobody "
        f"vouched for it; if you trust it, pass --trust {check.sha256} (its SHA-256), or save the model with skops.\n"
    )
    assert _files(tmp_path) == []
    trusted = _audit(
        tmp_path,
        env["data"],
        "credit-pickle@1",
        "--no-register",
        "--model",
        "models:/credit-pickle/1",
        "--trust",
        check.sha256,
    )
    assert trusted.exit_code in VERDICTS, trusted.output


# ---------------------------------------------------------------- the register


def _workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    return root


def _register(url: str, root: Path, *args: str, actor: str = "ds@x") -> Result:
    words = list(args)
    return CliRunner().invoke(
        cli,
        ["register", words[0], "--register-url", url, "--workspace", str(root), "--actor", actor, *words[1:]],
    )


def _events(url: str, root: Path) -> int:
    with Register(url, workspace_root=root) as register:
        return len(register.history())


def test_register_version_from_an_alias_pins_the_version_and_the_audit_records_it(
    env: dict[str, Any], tmp_path: Path, register_url: str
) -> None:
    root = _workspace(tmp_path)
    added = _register(register_url, root, "add", "credit", "--owner", "ds@x", "--purpose", "Grant credit")
    assert added.exit_code == 0, added.output
    result = _register(
        register_url, root, "version", "credit", "--version", "1", "--model", "models:/credit@champion"
    )
    assert result.exit_code == 0, result.output
    assert "from models:/credit/1" in result.output
    with Register(register_url, workspace_root=root) as register:
        record = register.resolve_version("credit", "1")
    assert record.artifact_path == "models:/credit/1"
    assert record.source is not None and record.source["run_id"] == env["runs"]["credit/1"]
    assert (
        record.source["requested"] == "models:/credit@champion" and record.source["serialization"] == "skops"
    )
    assert record.framework and record.framework.startswith("scikit-learn ")
    assert record.features == ["income", "tenure"]  # from the model's signature
    other = _audit(
        root, env["data"], "credit@1", "--register-url", register_url, "--model", "models:/credit/2"
    )
    assert other.exit_code == 2 and "is registered with the file models:/credit/1" in other.output
    audited = _audit(
        root, env["data"], "credit@1", "--register-url", register_url, "--actor", "auditor@x",
        "--model", "models:/credit@champion",  # the alias points at the registered version: the same model
    )  # fmt: skip
    assert audited.exit_code in VERDICTS, audited.output
    with Register(register_url, workspace_root=root) as register:
        (audit,) = register.show("credit").audits
        assert audit.artifact_sha256 == record.sha256
        assert register.verify().problems == []


def test_import_mlflow_mirrors_new_versions_only_and_is_idempotent(
    env: dict[str, Any], tmp_path: Path, register_url: str
) -> None:
    root = _workspace(tmp_path)
    first = _register(
        register_url, root, "import-mlflow", "credit", "--owner", "risk@x", "--purpose", "Grant credit"
    )
    assert first.exit_code == 0, first.output
    assert "Imported versions 1, 2 of credit from MLflow model 'credit'." in first.output
    with Register(register_url, workspace_root=root) as register:
        versions = {v.version: v for v in register.show("credit").versions}
    assert sorted(versions) == ["1", "2"]
    assert versions["2"].artifact_path == "models:/credit/2"
    assert versions["2"].source is not None and versions["2"].source["run_id"] == env["runs"]["credit/2"]
    before = _events(register_url, root)
    again = _register(register_url, root, "import-mlflow", "credit")
    assert again.exit_code == 0, again.output
    assert "Already in the register and unchanged: versions 1, 2." in again.output
    assert _events(register_url, root) == before  # nothing written the second time


def test_import_mlflow_refuses_a_pickle_until_someone_vouches_for_it(
    env: dict[str, Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    root = _workspace(tmp_path)
    result = _register(
        url, root, "import-mlflow", "credit-pickle", "--owner", "ds@x", "--purpose", "Grant credit"
    )
    assert result.exit_code == 4
    assert "Not imported: models:/credit-pickle/1 (model.pkl) is a pkl file" in result.output
    assert (
        "governance register version credit-pickle --version 1 --model models:/credit-pickle/1 --trust"
        in (result.output)
    )
    with Register(url, workspace_root=root) as register:
        assert register.show("credit-pickle").versions == []
    from governance.intake.mlflow_models import check_mlflow_model

    digest = check_mlflow_model("models:/credit-pickle/1")[0].sha256
    vouched = _register(
        url,
        root,
        "version",
        "credit-pickle",
        "--version",
        "1",
        "--model",
        "models:/credit-pickle/1",
        "--trust",
        digest,
    )
    assert vouched.exit_code == 0, vouched.output
    assert "vouched for its model file" in vouched.output
    assert _register(url, root, "import-mlflow", "credit-pickle").exit_code == 0


def test_a_model_replaced_in_mlflow_under_the_same_version_is_a_break(
    env: dict[str, Any], tmp_path: Path
) -> None:
    from governance.intake.model_files import save_model

    url = f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    root = _workspace(tmp_path)
    result = _register(
        url, root, "import-mlflow", "credit-swap", "--owner", "ds@x", "--purpose", "Grant credit"
    )
    assert result.exit_code == 0, result.output
    (model_file,) = (env["root"] / "artifacts").rglob(f"{env['swap_model_id']}/artifacts/model.skops")
    save_model(_fit(env["frame"], c=0.01), model_file)  # someone replaces the model, keeping version 1

    audited = _audit(root, env["data"], "credit-swap@1", "--register-url", url)
    assert audited.exit_code == 4
    assert audited.output.startswith(
        "Error: models:/credit-swap/1 changed in MLflow since it was registered: its model file's SHA-256 is now "
    )
    assert audited.output.count("\n") == 1 and "Traceback" not in audited.output
    assert not (root / "audits").exists()
    again = _register(url, root, "import-mlflow", "credit-swap")
    assert again.exit_code == 4
    assert (
        "Changed in MLflow: models:/credit-swap/1 changed in MLflow since it was imported as credit-swap@1"
        in (again.output)
    )


# ---------------------------------------------------------------- writing back


def test_tags_are_written_only_with_the_flag(env: dict[str, Any], tmp_path: Path) -> None:
    client = env["client"]
    plain = _audit(tmp_path, env["data"], "credit@2", "--no-register", "--model", "models:/credit/2")
    assert plain.exit_code in VERDICTS, plain.output
    assert _governance_tags(client, "credit", "2") == {}
    untagged = set((tmp_path / "audits" / "credit" / "2").iterdir())
    tagged = _cli(
        "audit", "credit@2", "--workspace", str(tmp_path), "--data", str(env["data"]), "--target", "label",
        "--sensitive", "group", "--id", "id", "--policy", "four-fifths", "--n-boot", "200", "--no-explain",
        "--no-figures", "--no-register", "--model", "models:/credit/2", "--mlflow-tags",
    )  # fmt: skip
    assert tagged.exit_code in VERDICTS, tagged.output
    # the tagged audit's folder: the one that is new (two audits in one second sort by their random suffix)
    (folder,) = set((tmp_path / "audits" / "credit" / "2").iterdir()) - untagged
    audit = json.loads((folder / "audit.json").read_text())
    tags = _governance_tags(client, "credit", "2")
    assert tags == {
        "governance.verdict": audit["policy"]["verdict"],
        "governance.audit_id": audit["audit_id"],
        "governance.report": str((folder / "report.md").resolve()),
    }
    assert "MLflow: tagged models:/credit/2 with governance.audit_id" in tagged.output
    logged = client.list_artifacts(env["runs"]["credit/2"], f"governance/{audit['audit_id']}")
    assert [item.path.rsplit("/", 1)[-1] for item in logged] == ["audit.json"]


def test_mlflow_tags_on_a_local_model_file_is_refused_before_the_audit(
    env: dict[str, Any], tmp_path: Path
) -> None:
    from governance.intake.model_files import save_model

    save_model(_fit(env["frame"]), tmp_path / "m.skops")
    result = _audit(
        tmp_path, env["data"], "m@1", "--no-register", "--model", str(tmp_path / "m.skops"), "--mlflow-tags"
    )
    assert result.exit_code == 2
    assert result.output.startswith("Error: --mlflow-tags writes the verdict back to an MLflow model version")
    assert _files(tmp_path / "audits") == []


def test_a_tag_failure_after_the_audit_is_recorded_is_a_warning(
    env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    root = _workspace(tmp_path)
    assert (
        _register(url, root, "import-mlflow", "credit-tagfail", "--owner", "ds@x", "--purpose", "p").exit_code
        == 0
    )
    pause = tmp_path / "pause"
    monkeypatch.setenv("GOVERNANCE_TEST_PAUSE_AT", "before-commit")
    monkeypatch.setenv("GOVERNANCE_TEST_PAUSE_FILE", str(pause))

    def delete_the_version_meanwhile() -> None:
        while not pause.exists():
            threading.Event().wait(0.05)
        env["client"].delete_model_version("credit-tagfail", "1")
        pause.unlink()

    helper = threading.Thread(target=delete_the_version_meanwhile)
    helper.start()
    result = _audit(root, env["data"], "credit-tagfail@1", "--register-url", url, "--mlflow-tags")
    helper.join(timeout=60)
    assert result.exit_code in VERDICTS, result.output
    assert "Warning: The audit " in result.output
    assert "is complete and kept, but its verdict was not written to MLflow" in result.output
    with Register(url, workspace_root=root) as register:
        assert len(register.show("credit-tagfail").audits) == 1


def test_a_stop_while_the_tags_are_written_says_the_audit_is_kept(
    env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while MLflow is written to (a network call, after the audit is recorded): the sentence says the audit
    is kept and not to run it again, which would record a second audit."""
    import governance.intake.mlflow_models as mlflow_models

    url = f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    root = _workspace(tmp_path)
    assert (
        _register(url, root, "import-mlflow", "credit-tagstop", "--owner", "ds@x", "--purpose", "p").exit_code
        == 0
    )

    def stopped(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mlflow_models, "write_audit_tags", stopped)
    result = _audit(root, env["data"], "credit-tagstop@1", "--register-url", url, "--mlflow-tags")
    assert result.exit_code == 130, result.output
    assert "Interrupted (Ctrl-C) after the audit " in result.output, result.output
    assert "do not run the audit again" in result.output and "MLflow tags" in result.output, result.output
    with Register(url, workspace_root=root) as register:
        assert len(register.show("credit-tagstop").audits) == 1


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("model", "tracking", "expected"),
    [
        ("models:/nope/1", None, "has no model named 'nope'; check the name"),
        ("models:/credit/99", None, "The MLflow model 'credit' has no version 99; check the number"),
        ("models:/credit@nope", None, "The MLflow model 'credit' has no alias 'nope'; check the alias"),
        ("models:/credit", None, "'models:/credit' is not an MLflow model URI; write models:/NAME/VERSION"),
        (
            "models:/credit/1",
            "http://127.0.0.1:9",
            "http://127.0.0.1:9 could not be reached to find the model",
        ),
        (
            "models:/credit/1",
            "sqlite:///{tmp}/missing.db",
            "missing.db does not exist; check MLFLOW_TRACKING_URI",
        ),
        ("models:/credit/1", "", "No MLflow tracking server is set; set MLFLOW_TRACKING_URI"),
    ],
)
def test_bad_mlflow_input_is_one_sentence_exit_2_and_writes_nothing(
    env: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    model: str,
    tracking: str | None,
    expected: str,
) -> None:
    if tracking is not None:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking.format(tmp=tmp_path))
    url = f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    root = _workspace(tmp_path)
    assert _register(url, root, "add", "credit", "--owner", "ds@x", "--purpose", "p").exit_code == 0
    before = _files(tmp_path)
    for result in (
        _audit(root, env["data"], "credit@1", "--no-register", "--model", model),
        _register(url, root, "version", "credit", "--version", "1", "--model", model),
    ):
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
        assert "Traceback" not in result.output
    assert _files(tmp_path) == before
    with Register(url, workspace_root=root) as register:
        assert register.show("credit").versions == []


def test_import_mlflow_of_an_unknown_model_or_without_an_owner_writes_nothing(
    env: dict[str, Any], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    root = _workspace(tmp_path)
    unknown = _register(url, root, "import-mlflow", "nope", "--owner", "ds@x", "--purpose", "p")
    assert unknown.exit_code == 2
    assert "has no model named 'nope'" in unknown.output and unknown.output.count("\n") == 1
    no_owner = _register(url, root, "import-mlflow", "credit")
    assert no_owner.exit_code == 2
    assert no_owner.output == (
        "Error: credit is not in the register yet, and MLflow does not say who owns it (a tag 'owner') or what "
        "it decides (a description) for 'credit'; give --owner EMAIL and --purpose TEXT (nothing was imported).\n"
    )
    with Register(url, workspace_root=root) as register:
        assert register.list_models() == []


def test_without_mlflow_installed_it_says_how_to_install_it(
    env: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m == "mlflow" or m.startswith("mlflow.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what `import mlflow` meets when it is not installed
    result = _audit(tmp_path, env["data"], "credit@1", "--no-register", "--model", "models:/credit/1")
    assert result.exit_code == 2
    assert result.output == (
        "Error: Loading models:/ URIs needs MLflow, which is not installed; install it with "
        "pip install 'governance[mlflow]'.\n"
    )
    assert _files(tmp_path) == []
