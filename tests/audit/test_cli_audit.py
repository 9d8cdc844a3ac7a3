"""``governance audit`` end to end: exit codes 0/1/2/3/4, the files it writes, and nothing written on errors."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli
from governance.provenance import sha256_file

FAST = ["--no-register", "--n-boot", "200", "--no-explain", "--quiet"]


def _run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "m@1", "--workspace", str(root), *FAST, *args])
    return result.exit_code, result.output


def _files(root: Path) -> list[Path]:
    return sorted(p for p in (root / "audits").rglob("*") if p.is_file()) if (root / "audits").exists() else []


def test_fair_model_passes_and_writes_the_audit_folder(fair_case: dict[str, Path]) -> None:
    root = fair_case["root"]
    code, output = _run(root, "--model", str(fair_case["model"]), "--data", str(fair_case["data"]),
                        "--target", "label", "--sensitive", "group", "--id", "id", "--policy", "four-fifths")
    assert code == 0, output
    assert output.startswith("PASSED: Passed: every blocking rule of the 'four-fifths' policy is met.")
    folders = list((root / "audits" / "m" / "1").iterdir())
    assert len(folders) == 1
    written = {p.name for p in folders[0].iterdir()}
    assert {"audit.json", "report.md", "figures"} <= written
    audit = json.loads((folders[0] / "audit.json").read_text())
    assert audit["model"]["sha256"] == sha256_file(fair_case["model"])
    assert audit["provenance"]["data_sha256"] == sha256_file(fair_case["data"])
    assert audit["data"]["features"] == ["income", "tenure", "region"]
    assert (folders[0] / "figures" / "groups-group.svg").read_text().startswith("<?xml")


def test_biased_model_fails_with_exit_1(biased_case: dict[str, Path]) -> None:
    code, output = _run(biased_case["root"], "--model", str(biased_case["model"]), "--data", str(biased_case["data"]),
                        "--target", "label", "--sensitive", "group", "--id", "id", "--policy", "four-fifths")
    assert code == 1, output
    assert output.startswith("FAILED: Failed: 1 blocking rule(s) of the 'four-fifths' policy failed (four-fifths-selection).")


def test_small_sample_is_inconclusive_and_strict_fails(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    small = tmp_path / "small.csv"
    frame = pd.read_csv(fair_case["data"]).head(80)
    frame.loc[:, "group"] = ["A", "B"] * 40
    frame.to_csv(small, index=False)
    args = ["--model", str(fair_case["model"]), "--data", str(small), "--target", "label", "--sensitive", "group",
            "--id", "id", "--policy", "four-fifths"]
    assert _run(fair_case["root"], *args)[0] == 3
    assert _run(fair_case["root"], *args, "--strict")[0] == 1


def test_predictions_only_without_labels(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    log = tmp_path / "log.parquet"
    frame[["id", "group", "hired"]].to_parquet(log)
    code, output = _run(fair_case["root"], "--predictions", "hired", "--data", str(log), "--sensitive", "group",
                        "--policy", "nyc-ll144")
    assert code == 0, output
    assert "Reporting only" in output


def test_untrusted_pickle_is_refused_with_exit_4_and_nothing_written(fair_case: dict[str, Path]) -> None:
    root = fair_case["root"]
    code, output = _run(root, "--model", str(fair_case["pickle"]), "--data", str(fair_case["data"]),
                        "--target", "label", "--sensitive", "group", "--id", "id")
    assert code == 4
    digest = sha256_file(fair_case["pickle"])
    assert output == (f"Error: model.pkl is a pkl file, which can run any code when loaded, and nobody vouched for it; "
                      f"if you trust it, pass --trust {digest} (its SHA-256), or save the model with skops.\n")
    assert _files(root) == []
    code, _ = _run(root, "--model", str(fair_case["pickle"]), "--trust", digest, "--data", str(fair_case["data"]),
                   "--target", "label", "--sensitive", "group", "--id", "id", "--policy", "four-fifths")
    assert code == 0


def test_bad_inputs_give_one_sentence_exit_2_and_write_nothing(fair_case: dict[str, Path], tmp_path: Path) -> None:
    root = fair_case["root"]
    base = ["--model", str(fair_case["model"]), "--data", str(fair_case["data"]), "--id", "id"]
    typo_policy = tmp_path / "typo.yaml"
    typo_policy.write_text("name: x\nrules:\n  - id: a\n    description: b\n    metric: selection_rate\n"
                           "    comparison: impact_ratio\n    bound: '>= 0.8'\n    severty: block\n")
    cases = {
        ("--target", "label", "--sensitive", "gruop"): "Error: There is no column 'gruop' in holdout.csv (named by --sensitive); did you mean 'group'?\n",
        ("--target", "lable", "--sensitive", "group"): "Error: There is no column 'lable' in holdout.csv (named by --target); did you mean 'label'?\n",
        ("--target", "label", "--sensitive", "group", "--policy", str(typo_policy)):
            "Error: typo.yaml: line 8, rules.0.severty: unknown key 'severty' (check its spelling).\n",
        ("--target", "label", "--sensitive", "group", "--positive-label", "yes"):
            "Error: The positive label 'yes' is not one of the model's classes (0, 1); pass one of those with --positive-label.\n",
    }
    for extra, message in cases.items():
        code, output = _run(root, *base, *extra)
        assert (code, output) == (2, message)
    unreadable = tmp_path / "broken.parquet"
    unreadable.write_bytes(b"garbage")
    code, output = _run(root, "--model", str(fair_case["model"]), "--data", str(unreadable), "--sensitive", "group")
    assert code == 2 and output.startswith("Error: broken.parquet could not be read as Parquet")
    assert _files(root) == []


def test_json_to_stdout_is_the_audit_json(fair_case: dict[str, Path]) -> None:
    result = CliRunner().invoke(cli, ["audit", "m@1", "--workspace", str(fair_case["root"]), "--no-register", "--n-boot", "50",
                                      "--no-explain", "--model", str(fair_case["model"]), "--data", str(fair_case["data"]),
                                      "--target", "label", "--sensitive", "group", "--id", "id", "--json", "-"])
    document = json.loads(result.output)
    assert document["schema_version"] == "1.0" and document["policy"]["verdict"] in {"passed", "inconclusive"}


def test_more_bad_inputs(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["score"] = frame["income"] / 100
    frame.loc[3, "label"] = None
    data = tmp_path / "odd.csv"
    frame.to_csv(data, index=False)
    code, output = _run(root, "--predictions", "score", "--data", str(data), "--sensitive", "group")
    assert (code, output) == (2, "Error: The predictions of the column 'score' are continuous numbers, but the policy's rule "
                                 "'four-fifths-selection' needs decisions; pass 0/1 decisions, or scores with --scores and a "
                                 "--threshold, or a regression policy.\n")
    code, output = _run(root, "--model", str(fair_case["model"]), "--data", str(data), "--target", "label", "--sensitive", "group")
    assert (code, output) == (2, "Error: The target column 'label' has 1 missing label(s); drop or fill those rows, "
                                 "or leave out --target to audit selection rates only.\n")
    named = tmp_path / "named.yaml"
    named.write_text("name: n\nreference: named\nreference_groups: {group: C}\nrules: []\n")
    code, output = _run(root, "--model", str(fair_case["model"]), "--data", str(fair_case["data"]), "--target", "label",
                        "--sensitive", "group", "--id", "id", "--policy", str(named))
    assert code == 2 and output.startswith("Error: ") and "'C'" in output and output.count("\n") == 1
    assert _files(root) == []


# --- the model's own input columns (feature_names_in_) -----------------------------------------------------------

SEX_SENTENCE = "The model takes the sensitive attribute 'group' as a direct input."


def _save(model: object, path: Path) -> Path:
    from governance.intake.model import save_model

    save_model(model, path)
    return path


def test_a_model_that_takes_a_sensitive_column_gets_it_and_the_verdict_says_so(fair_case: dict[str, Path]) -> None:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    model = Pipeline([
        ("prepare", ColumnTransformer([("cat", OneHotEncoder(), ["group", "region"]), ("num", StandardScaler(), ["income"])])),
        ("model", LogisticRegression()),
    ]).fit(frame[["group", "income", "region"]], frame["label"])
    path = _save(model, root / "uses-group.skops")
    result = CliRunner().invoke(cli, ["audit", "m@1", "--workspace", str(root), "--no-register", "--n-boot", "50", "--no-explain",
                                      "--model", str(path), "--data", str(fair_case["data"]), "--target", "label",
                                      "--sensitive", "group", "--id", "id", "--policy", "four-fifths"])
    assert result.exit_code in {0, 1, 3}, result.output
    verdict_block = result.output.split("\n\n")[0]
    assert verdict_block.splitlines()[1] == SEX_SENTENCE
    folder = next((root / "audits" / "m" / "1").iterdir())
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["data"]["features"] == ["group", "income", "region"]
    assert audit["data"]["features_source"] == "model"
    assert audit["model"]["sensitive_inputs"] == ["group"]
    report = (folder / "report.md").read_text()
    assert SEX_SENTENCE in report.split("- **Model:**")[0]


def test_a_plain_model_ignores_the_columns_it_never_saw(fair_case: dict[str, Path]) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    path = _save(LogisticRegression().fit(frame[["tenure", "income"]], frame["label"]), root / "plain.skops")
    code, output = _run(root, "--model", str(path), "--data", str(fair_case["data"]), "--target", "label",
                        "--sensitive", "group", "--policy", "four-fifths")
    assert code in {0, 3}, output
    audit = json.loads(next((root / "audits" / "m" / "1").iterdir()).joinpath("audit.json").read_text())
    assert audit["data"]["features"] == ["tenure", "income"] and audit["model"]["sensitive_inputs"] == []
    assert SEX_SENTENCE not in output


def test_features_override_and_a_missing_model_column_is_named(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    plain = _save(LogisticRegression().fit(frame[["tenure", "income"]], frame["label"]), root / "plain.skops")
    code, output = _run(root, "--model", str(plain), "--data", str(fair_case["data"]), "--target", "label",
                        "--sensitive", "group", "--features", "income", "--features", "tenure")
    assert code == 2 and output.startswith("Error: The model could not predict on the data"), output
    lacking = tmp_path / "lacking.csv"
    frame.drop(columns=["tenure"]).to_csv(lacking, index=False)
    code, output = _run(root, "--model", str(plain), "--data", str(lacking), "--target", "label", "--sensitive", "group")
    assert (code, output) == (2, "Error: The model was trained on the column(s) 'tenure', which lacking.csv lacks; add them "
                                 "to the data, or name the model's input columns with --features.\n")
    assert _files(root) == []


# --- labels and predictions checked before anything is computed --------------------------------------------------


def test_text_labels_against_numeric_predictions_are_refused(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["label"] = frame["label"].map({0: "no", 1: "yes"})
    data = tmp_path / "words.csv"
    frame.to_csv(data, index=False)
    code, output = _run(root, "--model", str(fair_case["model"]), "--data", str(data), "--target", "label",
                        "--sensitive", "group", "--id", "id")
    assert (code, output) == (2, "Error: The labels in the target column 'label' are text (no, yes) but the model's predictions "
                                 "are numbers (0, 1); code both the same way, for example 0/1 in both.\n")
    assert _files(root) == []


def test_a_stray_label_value_and_infinity_are_refused_in_csv(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    stray = frame.copy()
    stray.loc[5, "label"] = 2
    stray.to_csv(tmp_path / "stray.csv", index=False)
    code, output = _run(root, "--predictions", "hired", "--data", str(tmp_path / "stray.csv"), "--target", "label",
                        "--sensitive", "group")
    assert (code, output) == (2, "Error: The labels in the target column 'label' (0, 1, 2) and the predictions in column "
                                 "'hired' (0, 1) are not the same classes: 2 appears in only one of them; fix or drop the "
                                 "rows with that value, or code both columns the same way.\n")
    infinite = frame.copy()
    infinite["hired"] = infinite["hired"].astype(float)
    infinite.loc[7, "hired"] = float("inf")
    infinite.to_csv(tmp_path / "inf.csv", index=False)
    code, output = _run(root, "--predictions", "hired", "--data", str(tmp_path / "inf.csv"), "--sensitive", "group")
    assert (code, output) == (2, "Error: The predictions in column 'hired' include non-finite values (inf); drop those rows "
                                 "or replace them with real values.\n")
    assert _files(root) == []


def test_multiclass_works_with_a_multiclass_policy_and_a_binary_policy_is_refused(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    rng = np.random.default_rng(0)
    frame["grade"] = rng.choice(["a", "b", "c"], len(frame))
    frame["graded"] = np.where(rng.random(len(frame)) < 0.7, frame["grade"], "b")
    data = tmp_path / "grades.csv"
    frame.to_csv(data, index=False)
    policy = tmp_path / "multi.yaml"
    policy.write_text("name: multi\nrules:\n  - id: rate-gap\n    description: gap\n    metric: selection_rate\n"
                      "    comparison: difference_between_groups\n    bound: '<= 0.5'\n    severity: block\n")
    args = ["--predictions", "graded", "--data", str(data), "--target", "grade", "--sensitive", "group"]
    code, output = _run(root, *args, "--policy", str(policy))
    assert code in {0, 3}, output
    code, output = _run(root, *args, "--policy", "four-fifths")
    assert (code, output) == (2, "Error: The predictions in column 'graded' have 3 classes (a, b, c), but the policy's rule "
                                 "'four-fifths-selection' (impact_ratio) needs a yes/no decision; map the predictions and "
                                 "labels to two values, or use a policy without impact_ratio or summary rules.\n")


def test_regression_still_works_with_a_regression_policy(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["amount"] = frame["income"] * 1.5
    frame["predicted"] = frame["amount"] + 0.25
    data = tmp_path / "amounts.csv"
    frame.to_csv(data, index=False)
    policy = tmp_path / "regression.yaml"
    policy.write_text("name: r\nrules:\n  - id: mae-gap\n    description: gap\n    metric: mae\n"
                      "    comparison: difference_between_groups\n    bound: '<= 1'\n    severity: block\n")
    code, output = _run(root, "--predictions", "predicted", "--data", str(data), "--target", "amount", "--sensitive", "group",
                        "--policy", str(policy))
    assert code == 0, output


def test_non_finite_scores_are_named_by_their_column(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    frame["score"] = frame["income"] / 100
    frame.loc[4, "score"] = float("-inf")
    frame.to_csv(tmp_path / "scored.csv", index=False)
    code, output = _run(fair_case["root"], "--predictions", "hired", "--scores", "score", "--data", str(tmp_path / "scored.csv"),
                        "--target", "label", "--sensitive", "group")
    assert (code, output) == (2, "Error: The scores in column 'score' include missing, non-numeric or non-finite values (-inf); "
                                 "drop those rows or replace them with real scores.\n")
