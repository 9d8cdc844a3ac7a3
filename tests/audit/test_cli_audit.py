"""``governance audit`` end to end: exit codes 0/1/2/3/4, the files it writes, and nothing written on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.provenance import sha256_file

FAST = ["--no-register", "--n-boot", "200", "--no-explain", "--quiet"]


def _run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["audit", "m@1", "--workspace", str(root), *FAST, *args])
    return result.exit_code, result.output


def _files(root: Path) -> list[Path]:
    return (
        sorted(p for p in (root / "audits").rglob("*") if p.is_file()) if (root / "audits").exists() else []
    )


def test_fair_model_passes_and_writes_the_audit_folder(fair_case: dict[str, Path]) -> None:
    root = fair_case["root"]
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
    )
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
    code, output = _run(
        biased_case["root"],
        "--model",
        str(biased_case["model"]),
        "--data",
        str(biased_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
    )
    assert code == 1, output
    assert output.startswith(
        "FAILED: Failed: 1 blocking rule(s) of the 'four-fifths' policy failed (four-fifths-selection)."
    )


def test_small_sample_is_inconclusive_and_strict_fails(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    small = tmp_path / "small.csv"
    frame = pd.read_csv(fair_case["data"]).head(80)
    frame.loc[:, "group"] = ["A", "B"] * 40
    frame.to_csv(small, index=False)
    args = [
        "--model",
        str(fair_case["model"]),
        "--data",
        str(small),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
    ]
    assert _run(fair_case["root"], *args)[0] == 3
    assert _run(fair_case["root"], *args, "--strict")[0] == 1


def test_predictions_only_without_labels(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    log = tmp_path / "log.parquet"
    frame[["id", "group", "hired"]].to_parquet(log)
    code, output = _run(
        fair_case["root"],
        "--predictions",
        "hired",
        "--data",
        str(log),
        "--sensitive",
        "group",
        "--policy",
        "nyc-ll144",
    )
    assert code == 0, output
    assert output.startswith("REPORTED: ")


def test_untrusted_pickle_is_refused_with_exit_4_and_nothing_written(fair_case: dict[str, Path]) -> None:
    root = fair_case["root"]
    code, output = _run(
        root,
        "--model",
        str(fair_case["pickle"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
    )
    assert code == 4
    digest = sha256_file(fair_case["pickle"])
    assert output == (
        f"Error: model.pkl is a pkl file, which can run any code when loaded, and nobody vouched for it; "
        f"if you trust it, pass --trust {digest} (its SHA-256), or save the model with skops.\n"
    )
    assert _files(root) == []
    code, _ = _run(
        root,
        "--model",
        str(fair_case["pickle"]),
        "--trust",
        digest,
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
    )
    assert code == 0


def test_bad_inputs_give_one_sentence_exit_2_and_write_nothing(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
    root = fair_case["root"]
    base = ["--model", str(fair_case["model"]), "--data", str(fair_case["data"]), "--id", "id"]
    typo_policy = tmp_path / "typo.yaml"
    typo_policy.write_text(
        "name: x\nrules:\n  - id: a\n    description: b\n    metric: selection_rate\n"
        "    comparison: impact_ratio\n    bound: '>= 0.8'\n    severty: block\n"
    )
    cases = {
        (
            "--target",
            "label",
            "--sensitive",
            "gruop",
        ): "Error: There is no column 'gruop' in holdout.csv (named by --sensitive); did you mean 'group'?\n",
        (
            "--target",
            "lable",
            "--sensitive",
            "group",
        ): "Error: There is no column 'lable' in holdout.csv (named by --target); did you mean 'label'?\n",
        (
            "--target",
            "label",
            "--sensitive",
            "group",
            "--policy",
            str(typo_policy),
        ): "Error: typo.yaml: line 8, rules.0.severty: unknown key 'severty' (check its spelling).\n",
        (
            "--target",
            "label",
            "--sensitive",
            "group",
            "--positive-label",
            "yes",
        ): "Error: The positive label 'yes' is not one of the model's classes (0, 1); pass one of those with --positive-label.\n",
    }
    for extra, message in cases.items():
        code, output = _run(root, *base, *extra)
        assert (code, output) == (2, message)
    unreadable = tmp_path / "broken.parquet"
    unreadable.write_bytes(b"garbage")
    code, output = _run(
        root, "--model", str(fair_case["model"]), "--data", str(unreadable), "--sensitive", "group"
    )
    assert code == 2 and output.startswith("Error: broken.parquet could not be read as Parquet")
    assert _files(root) == []


def test_json_to_stdout_is_the_audit_json(fair_case: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(fair_case["root"]),
            "--no-register",
            "--n-boot",
            "50",
            "--no-explain",
            "--model",
            str(fair_case["model"]),
            "--data",
            str(fair_case["data"]),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--id",
            "id",
            "--json",
            "-",
        ],
    )
    document = json.loads(result.output)
    assert (
        document["schema_version"] == "1.1" and document["policy"]["verdict"] == "inconclusive"
    )  # --no-explain


def test_more_bad_inputs(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["score"] = frame["income"] / 100
    frame.loc[3, "label"] = None
    data = tmp_path / "odd.csv"
    frame.to_csv(data, index=False)
    code, output = _run(root, "--predictions", "score", "--data", str(data), "--sensitive", "group")
    assert (code, output) == (
        2,
        "Error: The predictions of the column 'score' are continuous numbers, but the policy's rule "
        "'four-fifths-selection' needs decisions; pass 0/1 decisions, or scores with --scores and a "
        "--threshold, or audit the numbers with --policy regression.\n",
    )
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(data),
        "--target",
        "label",
        "--sensitive",
        "group",
    )
    assert (code, output) == (
        2,
        "Error: The target column 'label' has 1 missing label(s); drop or fill those rows, "
        "or leave out --target to audit selection rates only.\n",
    )
    named = tmp_path / "named.yaml"
    named.write_text("name: n\nreference: named\nreference_groups: {group: C}\nrules: []\n")
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        str(named),
    )
    assert code == 2 and output.startswith("Error: ") and "'C'" in output and output.count("\n") == 1
    assert _files(root) == []


def _audit_folder(root: Path) -> Path:
    folders = list((root / "audits" / "m" / "1").iterdir())
    assert len(folders) == 1
    return folders[0]


def test_no_explain_leaves_the_blocking_explanation_rule_unchecked_so_the_audit_is_inconclusive(
    fair_case: dict[str, Path],
) -> None:
    root = fair_case["root"]
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
    )
    assert code == 3, output
    assert output.startswith(
        "INCONCLUSIVE: Inconclusive: 1 blocking rule(s) of the 'default' policy could not be checked "
        "(no-sensitive-driver, because it was skipped with --no-explain)."
    )
    audit = json.loads((_audit_folder(root) / "audit.json").read_text())
    rule = next(r for r in audit["policy"]["rules"] if r["rule_id"] == "no-sensitive-driver")
    assert (rule["status"], rule["not_checked_because"]) == (
        "inconclusive",
        "it was skipped with explain=False",  # the library's words; the command line says --no-explain
    )
    # The full summary shows the rule as not checked, in the block of rules, next to the verdict.
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--no-register",
            "--n-boot",
            "50",
            "--no-explain",
            "--no-figures",
            "--model",
            str(fair_case["model"]),
            "--data",
            str(fair_case["data"]),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--id",
            "id",
        ],
    )
    assert result.exit_code == 3
    line = next(x for x in result.output.splitlines() if x.strip().startswith("no-sensitive-driver"))
    assert "not checked" in line and "skipped with --no-explain" in line


def test_a_predictions_only_audit_cannot_check_explanation_rules(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
    import pandas as pd

    frame = pd.read_csv(fair_case["data"])
    frame["approved"] = (frame["income"] > 45).astype(int)
    log = tmp_path / "log.csv"
    frame.to_csv(log, index=False)
    code, output = _run(
        fair_case["root"],
        "--predictions",
        "approved",
        "--data",
        str(log),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
    )
    assert code == 3, output
    assert (
        "no-sensitive-driver, because the audit ran on saved predictions, so there is no model to explain"
        in output
    )


def test_an_explainer_crash_makes_the_audit_inconclusive_with_its_message(
    fair_case: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import governance.audit.explain as explain

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(explain, "explain_model", crash)
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(fair_case["root"]),
            "--no-register",
            "--n-boot",
            "50",
            "--quiet",
            "--model",
            str(fair_case["model"]),
            "--data",
            str(fair_case["data"]),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--id",
            "id",
        ],
    )
    assert result.exit_code == 3, result.output
    assert result.output.startswith(
        "INCONCLUSIVE: Inconclusive: 1 blocking rule(s) of the 'default' policy could not be checked "
        "(no-sensitive-driver, because the explanation failed (the explainer stopped with RuntimeError: boom))."
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            ("--explain-rows", "0"),
            "Error: --explain-rows must be at least 1, not 0; leave it out to explain every row "
            "the budget allows.\n",
        ),
        (
            ("--explain-rows", "-3"),
            "Error: --explain-rows must be at least 1, not -3; leave it out to explain every row "
            "the budget allows.\n",
        ),
        (
            ("--explain-budget", "-5"),
            "Error: --explain-budget must be a positive number of seconds, not -5; for example "
            "--explain-budget 60.\n",
        ),
        (
            ("--explain-budget", "0"),
            "Error: --explain-budget must be a positive number of seconds, not 0; for example "
            "--explain-budget 60.\n",
        ),
        (
            ("--explain-budget", "nan"),
            "Error: --explain-budget must be a positive number of seconds, not nan; for example "
            "--explain-budget 60.\n",
        ),
    ],
)
def test_invalid_explain_options_are_usage_errors_before_any_work(
    fair_case: dict[str, Path],
    option: tuple[str, str],
    message: str,
) -> None:
    root = fair_case["root"]
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--no-register",
            "--n-boot",
            "50",
            "--model",
            str(fair_case["model"]),
            "--data",
            str(root / "missing.csv"),
            "--target",
            "label",
            "--sensitive",
            "group",
            *option,
        ],
    )
    assert (result.exit_code, result.output) == (2, message)
    assert _files(root) == []


def test_a_reporting_only_policy_reports_in_every_output(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    log = tmp_path / "log.csv"
    frame[["id", "group", "hired"]].to_csv(log, index=False)
    code, output = _run(
        root, "--predictions", "hired", "--data", str(log), "--sensitive", "group", "--policy", "nyc-ll144"
    )
    assert code == 0, output
    assert output.startswith("REPORTED: Reported: the 'nyc-ll144' policy sets no pass mark")
    assert "PASSED" not in output and "Passed" not in output
    folder = _audit_folder(root)
    audit = json.loads((folder / "audit.json").read_text())
    assert (audit["policy"]["verdict"], audit["policy"]["exit_code"], audit["schema_version"]) == (
        "reported",
        0,
        "1.1",
    )
    report = (folder / "report.md").read_text()
    assert "**Verdict: Reported.**" in report and "Passed" not in report


def test_a_policy_without_blocking_rules_reports(fair_case: dict[str, Path], tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("name: empty\nrules: []\n")
    code, output = _run(
        fair_case["root"],
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        str(empty),
    )
    assert code == 0, output
    assert output.startswith(
        "REPORTED: Reported: the 'empty' policy has no blocking rule, so it sets no pass mark"
    )


# ---------------------------------------------------------------------- one audit specification per model (issue 9.10)

PIN = """models:
  m:
    audit_spec:
      policy: four-fifths
      sensitive: [group, band]
      require_explanations: true
      min_holdout_rows: 500
"""


def _pinned_workspace(case: dict[str, Path], pin: str = PIN) -> Path:
    """The case's folder as a workspace pinning model m; the holdout gains two columns that are not features."""
    import pandas as pd

    root = case["root"]
    frame = pd.read_csv(case["data"])
    frame["band"] = ["young", "old"] * (len(frame) // 2)
    frame["site"] = "x"
    frame.to_csv(case["data"], index=False)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n" + pin, encoding="utf-8")
    return root


def test_an_audit_that_departs_from_the_pin_is_refused_naming_each_departure(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
    import pandas as pd

    root = _pinned_workspace(fair_case)
    small = tmp_path / "small.csv"
    pd.read_csv(fair_case["data"]).head(120).to_csv(small, index=False)
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(small),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--sensitive",
        "site",
        "--id",
        "id",
        "--policy",
        "default",
    )
    assert (code, output) == (
        2,
        (
            "Error: This audit of m departs from the audit specification pinned in governance.yaml: it uses the policy "
            "'default', not the pinned 'four-fifths' (pass --policy four-fifths); it leaves out the pinned sensitive "
            "attribute 'band' (add --sensitive band); it adds the sensitive attribute 'site', which is not pinned "
            "(leave out --sensitive site); it skips the explanations, which are required (leave out --no-explain); "
            "its holdout has 120 rows, fewer than the pinned minimum of 500 (use a larger holdout); audit as pinned, or "
            "pass --override REASON to run it anyway with the reason on record.\n"
        ),
    )
    assert _files(root) == []


def test_an_audit_as_pinned_runs_and_the_same_policy_file_under_another_name_counts(
    fair_case: dict[str, Path],
) -> None:
    from governance.rules.load import resolve_policy_path

    root = _pinned_workspace(
        fair_case, PIN.replace("require_explanations: true", "require_explanations: false")
    )
    copy = root / "policies" / "ours.yaml"
    copy.parent.mkdir()
    copy.write_bytes(resolve_policy_path("four-fifths").read_bytes())
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "band",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        str(copy),
    )
    assert code in (0, 3), output
    audit = json.loads(next((root / "audits").rglob("audit.json")).read_text())
    assert audit["override"] is None
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "band",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
        "--override",
        "not needed",
    )
    assert (code, output) == (
        2,
        "Error: --override is not needed: this audit follows the audit specification pinned "
        "for m in governance.yaml; leave it out.\n",
    )


def test_override_runs_the_audit_and_records_the_reason_everywhere(fair_case: dict[str, Path]) -> None:
    root = _pinned_workspace(fair_case)
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--no-register",
            "--n-boot",
            "100",
            "--no-explain",
            "--no-figures",
            "--model",
            str(fair_case["model"]),
            "--data",
            str(fair_case["data"]),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--id",
            "id",
            "--policy",
            "four-fifths",
            "--override",
            "Band is not recorded for this quick check",
        ],
    )
    assert result.exit_code in (0, 3), result.output
    assert (
        "  Audit specification overridden (Band is not recorded for this quick check): it leaves out the pinned "
        "sensitive attribute 'band'; it skips the explanations, which are required."
    ) in result.output
    folder = next((root / "audits" / "m" / "1").iterdir())
    audit = json.loads((folder / "audit.json").read_text())
    assert audit["override"] == {
        "reason": "Band is not recorded for this quick check",
        "departures": [
            "it leaves out the pinned sensitive attribute 'band'",
            "it skips the explanations, which are required",
        ],
    }
    report = (folder / "report.md").read_text()
    assert (
        "**Audit specification overridden.**" in report
        and "Band is not recorded for this quick check" in report
    )
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
        "--policy",
        "four-fifths",
        "--override",
        "  ",
    )
    assert (code, output) == (
        2,
        "Error: --override needs a reason: say in a sentence why this audit departs from the "
        "pinned audit specification.\n",
    )


def test_an_overridden_audit_is_on_the_register_and_needs_a_risk_acceptance(
    fair_case: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from governance.register import Register
    from governance.workspace import find_workspace

    root = _pinned_workspace(fair_case, PIN.replace("min_holdout_rows: 500", "min_holdout_rows: 100"))
    for variable in ("GOVERNANCE_ACTOR", "GOVERNANCE_REGISTER_URL", "GOVERNANCE_WORKSPACE"):
        monkeypatch.delenv(variable, raising=False)
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "register",
            "add",
            "m",
            "--workspace",
            str(root),
            "--actor",
            "ds@x",
            "--owner",
            "o@x",
            "--purpose",
            "p",
            "--version",
            "1",
            "--model",
            str(fair_case["model"]),
        ],
    )
    assert added.exit_code == 0, added.output
    audited = runner.invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--actor",
            "aud@x",
            "--n-boot",
            "100",
            "--no-explain",
            "--no-figures",
            "--quiet",
            "--data",
            str(fair_case["data"]),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--sensitive",
            "band",
            "--id",
            "id",
            "--policy",
            "four-fifths",
            "--override",
            "Explainer broken on this machine",
        ],
    )
    assert audited.exit_code in (0, 3), audited.output
    with Register.for_workspace(find_workspace(root)) as register:
        event = register.history("m")[-1]
        audit_id = register.show("m").audits[-1].audit_id
    assert event.kind == "audit.recorded"
    assert event.payload["override"] == {
        "reason": "Explainer broken on this machine",
        "departures": ["it skips the explanations, which are required"],
    }
    refused = runner.invoke(
        cli,
        [
            "register",
            "approve",
            "m@1",
            "--workspace",
            str(root),
            "--actor",
            "boss@x",
            "--role",
            "risk-officer",
        ],
    )
    assert refused.exit_code == 1
    overridden = "with an override of the pinned audit specification (Explainer broken on this machine)"
    assert f"1 of its 1 audits of this model file did not pass: {audit_id} " in refused.output
    assert overridden in refused.output
    accepted = runner.invoke(
        cli,
        [
            "register",
            "approve",
            "m@1",
            "--workspace",
            str(root),
            "--actor",
            "boss@x",
            "--role",
            "risk-officer",
            "--accept-risk",
            "Explanations follow in the next audit",
        ],
    )
    assert accepted.exit_code == 0, accepted.output
    assert accepted.output.splitlines()[1:] == [
        "The risk acceptance covers these audits of its model file:",
        f"  {audit_id} " + accepted.output.split(f"  {audit_id} ")[1].strip(),
    ]
    assert overridden in accepted.output.splitlines()[2]


def test_a_broken_pin_is_an_input_error(fair_case: dict[str, Path]) -> None:
    base = [
        "--model",
        str(fair_case["model"]),
        "--data",
        str(fair_case["data"]),
        "--sensitive",
        "group",
        "--id",
        "id",
    ]
    cases = {
        "models:\n  m:\n    audit_spec:\n      policy: four-fifths\n      sensitve: [group]\n": "Error: governance.yaml: models.m.audit_spec has an unknown key 'sensitve'; use policy, sensitive, "
        "require_explanations or min_holdout_rows.\n",
        "models:\n  m:\n    audit_spec:\n      min_holdout_rows: many\n": "Error: governance.yaml: models.m.audit_spec.min_holdout_rows must be a whole number of at least 1, "
        "not 'many'.\n",
        "models:\n  m:\n    audit_spec:\n      policy: no-such-preset\n": "Error: governance.yaml: models.m.audit_spec.policy names 'no-such-preset', which cannot be loaded: There "
        "is no policy preset called 'no-such-preset'; use a file path or one of: ",
    }
    for pin, message in cases.items():
        root = _pinned_workspace(fair_case, pin)
        code, output = _run(root, *base)
        assert code == 2 and output.startswith(message) and output.count("\n") == 1, output


def test_the_init_template_and_the_demo_workspace_carry_valid_pins() -> None:
    import yaml

    from governance.audit.spec import AuditSpec, pinned_spec
    from governance.workspace import Workspace, load_config

    template = (
        Path(__file__).resolve().parents[2] / "governance" / "scaffold" / "files" / "governance.yaml"
    ).read_text()
    lines = template.splitlines()
    start = lines.index("# models:")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:])
    example = Workspace(root=Path("."), config=yaml.safe_load("\n".join(block)))
    assert pinned_spec(example, "credit-risk") == AuditSpec(
        model="credit-risk",
        policy="default",
        sensitive=("sex", "age_band"),
        require_explanations=True,
        min_holdout_rows=300,
    )
    repo = Path(__file__).resolve().parents[2]
    demo = Workspace(root=repo, config=load_config(repo / "governance.yaml"))
    assert pinned_spec(demo, "credit-risk") == AuditSpec(
        model="credit-risk",
        policy="default",
        sensitive=("sex", "age_band"),
        require_explanations=True,
        min_holdout_rows=300,
    )


# --- the model's own input columns (feature_names_in_) -----------------------------------------------------------

SEX_SENTENCE = "The model takes the sensitive attribute 'group' as a direct input."


def _save(model: object, path: Path) -> Path:
    from governance.intake.model_files import save_model

    save_model(model, path)
    return path


def test_a_model_that_takes_a_sensitive_column_gets_it_and_the_verdict_says_so(
    fair_case: dict[str, Path],
) -> None:
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [("cat", OneHotEncoder(), ["group", "region"]), ("num", StandardScaler(), ["income"])]
                ),
            ),
            ("model", LogisticRegression()),
        ]
    ).fit(frame[["group", "income", "region"]], frame["label"])
    path = _save(model, root / "uses-group.skops")
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--no-register",
            "--n-boot",
            "50",
            "--no-explain",
            "--model",
            str(path),
            "--data",
            str(fair_case["data"]),
            "--target",
            "label",
            "--sensitive",
            "group",
            "--id",
            "id",
            "--policy",
            "four-fifths",
        ],
    )
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
    code, output = _run(
        root,
        "--model",
        str(path),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--policy",
        "four-fifths",
    )
    assert code in {0, 3}, output
    audit = json.loads(next((root / "audits" / "m" / "1").iterdir()).joinpath("audit.json").read_text())
    assert audit["data"]["features"] == ["tenure", "income"] and audit["model"]["sensitive_inputs"] == []
    assert SEX_SENTENCE not in output


def test_features_override_and_a_missing_model_column_is_named(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    plain = _save(LogisticRegression().fit(frame[["tenure", "income"]], frame["label"]), root / "plain.skops")
    code, output = _run(
        root,
        "--model",
        str(plain),
        "--data",
        str(fair_case["data"]),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--features",
        "income",
        "--features",
        "tenure",
    )
    assert code == 2 and output.startswith("Error: The model could not predict on the data"), output
    lacking = tmp_path / "lacking.csv"
    frame.drop(columns=["tenure"]).to_csv(lacking, index=False)
    code, output = _run(
        root, "--model", str(plain), "--data", str(lacking), "--target", "label", "--sensitive", "group"
    )
    assert (code, output) == (
        2,
        "Error: The model was trained on the column(s) 'tenure', which lacking.csv lacks; add them "
        "to the data, or name the model's input columns with --features.\n",
    )
    assert _files(root) == []


# --- labels and predictions checked before anything is computed --------------------------------------------------


def test_text_labels_against_numeric_predictions_are_refused(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["label"] = frame["label"].map({0: "no", 1: "yes"})
    data = tmp_path / "words.csv"
    frame.to_csv(data, index=False)
    code, output = _run(
        root,
        "--model",
        str(fair_case["model"]),
        "--data",
        str(data),
        "--target",
        "label",
        "--sensitive",
        "group",
        "--id",
        "id",
    )
    assert (code, output) == (
        2,
        "Error: The labels in the target column 'label' are text (no, yes) but the model's predictions "
        "are numbers (0, 1); code both the same way, for example 0/1 in both.\n",
    )
    assert _files(root) == []


def test_a_stray_label_value_and_infinity_are_refused_in_csv(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    stray = frame.copy()
    stray.loc[5, "label"] = 2
    stray.to_csv(tmp_path / "stray.csv", index=False)
    code, output = _run(
        root,
        "--predictions",
        "hired",
        "--data",
        str(tmp_path / "stray.csv"),
        "--target",
        "label",
        "--sensitive",
        "group",
    )
    assert (code, output) == (
        2,
        "Error: The labels in the target column 'label' (0, 1, 2) and the predictions in column "
        "'hired' (0, 1) are not the same classes: 2 appears in only one of them; fix or drop the "
        "rows with that value, or code both columns the same way.\n",
    )
    infinite = frame.copy()
    infinite["hired"] = infinite["hired"].astype(float)
    infinite.loc[7, "hired"] = float("inf")
    infinite.to_csv(tmp_path / "inf.csv", index=False)
    code, output = _run(
        root, "--predictions", "hired", "--data", str(tmp_path / "inf.csv"), "--sensitive", "group"
    )
    assert (code, output) == (
        2,
        "Error: The predictions in column 'hired' include non-finite values (inf); drop those rows "
        "or replace them with real values.\n",
    )
    assert _files(root) == []


def test_multiclass_works_with_a_multiclass_policy_and_a_binary_policy_is_refused(
    fair_case: dict[str, Path], tmp_path: Path
) -> None:
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
    policy.write_text(
        "name: multi\nrules:\n  - id: rate-gap\n    description: gap\n    metric: selection_rate\n"
        "    comparison: difference_between_groups\n    bound: '<= 0.5'\n    severity: block\n"
    )
    args = ["--predictions", "graded", "--data", str(data), "--target", "grade", "--sensitive", "group"]
    code, output = _run(root, *args, "--policy", str(policy))
    assert code in {0, 3}, output
    code, output = _run(root, *args, "--policy", "four-fifths")
    assert (code, output) == (
        2,
        "Error: The predictions in column 'graded' have 3 classes (a, b, c), but the policy's rule "
        "'four-fifths-selection' (impact_ratio) needs a yes/no decision; map the predictions and "
        "labels to two values, or use a policy without impact_ratio or summary rules.\n",
    )


def test_regression_still_works_with_a_regression_policy(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    root = fair_case["root"]
    frame = pd.read_csv(fair_case["data"])
    frame["amount"] = frame["income"] * 1.5
    frame["predicted"] = frame["amount"] + 0.25
    data = tmp_path / "amounts.csv"
    frame.to_csv(data, index=False)
    policy = tmp_path / "regression.yaml"
    policy.write_text(
        "name: r\nrules:\n  - id: mae-gap\n    description: gap\n    metric: mae\n"
        "    comparison: difference_between_groups\n    bound: '<= 1'\n    severity: block\n"
    )
    code, output = _run(
        root,
        "--predictions",
        "predicted",
        "--data",
        str(data),
        "--target",
        "amount",
        "--sensitive",
        "group",
        "--policy",
        str(policy),
    )
    assert code == 0, output


def test_non_finite_scores_are_named_by_their_column(fair_case: dict[str, Path], tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.read_csv(fair_case["data"])
    frame["hired"] = (frame["income"] > 50).astype(int)
    frame["score"] = frame["income"] / 100
    frame.loc[4, "score"] = float("-inf")
    frame.to_csv(tmp_path / "scored.csv", index=False)
    code, output = _run(
        fair_case["root"],
        "--predictions",
        "hired",
        "--scores",
        "score",
        "--data",
        str(tmp_path / "scored.csv"),
        "--target",
        "label",
        "--sensitive",
        "group",
    )
    assert (code, output) == (
        2,
        "Error: The scores in column 'score' include missing, non-numeric or non-finite values (-inf); "
        "drop those rows or replace them with real scores.\n",
    )


@pytest.mark.parametrize("stop", [KeyboardInterrupt, "Terminated"])
def test_a_stop_after_the_audit_is_saved_says_so_not_run_it_again(
    fair_case: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: object
) -> None:
    """Ctrl-C or SIGTERM while the --json copy is written: the audit is complete and saved, so the sentence says
    where and not to run it again (a second run would record a second audit), with the stop's exit code."""
    import governance.cli.audit as audit_command
    from governance.cli.main import Terminated

    signal_raised = Terminated if stop == "Terminated" else KeyboardInterrupt

    def stopped(*_args: object) -> None:
        raise signal_raised

    monkeypatch.setattr(audit_command, "_write_json_copy", stopped)
    args = ["--model", str(fair_case["model"]), "--data", str(fair_case["data"]), "--target", "label"]
    code, output = _run(fair_case["root"], *args, "--sensitive", "group", "--json", str(tmp_path / "a.json"))
    folder = next((fair_case["root"] / "audits" / "m" / "1").iterdir())
    assert code == (143 if stop == "Terminated" else 130), output
    words = "Stopped (SIGTERM) after" if stop == "Terminated" else "Interrupted (Ctrl-C) after"
    assert output.startswith(f"{words} the audit {folder.name} was complete and saved in {folder}"), output
    assert "do not run the audit again" in output and "run it again" not in output.replace(
        "do not run", ""
    ), output
    assert (folder / "audit.json").is_file()


@pytest.mark.parametrize("extra", [["--json", "-"], [], ["--quiet"]])
def test_a_closed_output_after_the_audit_is_saved_says_so_and_keeps_the_verdict(
    fair_case: dict[str, Path], extra: list[str]
) -> None:
    """`governance audit ... --json - | head -c 1` (the reader gone): the audit is saved, so not exit 2 and "check
    the path" (which read as a failed audit to run again: a second audit), but the verdict's exit code and where
    the audit is."""
    import os
    import subprocess
    import sys

    root = fair_case["root"]
    args = ["audit", "m@1", "--workspace", str(root), "--no-register", "--n-boot", "50", "--no-explain"]
    args += ["--model", str(fair_case["model"]), "--data", str(fair_case["data"]), "--target", "label"]
    args += ["--sensitive", "group", "--id", "id", *extra]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    reader, writer = os.pipe()
    os.close(reader)  # nobody reads: every write to stdout fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "governance", *args], stdout=writer, stderr=subprocess.PIPE, text=True, env=env
        )  # fmt: skip
    finally:
        os.close(writer)
    folder = next((root / "audits" / "m" / "1").iterdir())
    assert done.returncode == 3, done.stderr  # inconclusive (--no-explain), as with an open output
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert f"the audit {folder.name} was complete and saved in {folder}" in done.stderr, done.stderr
    assert "do not run the audit again" in done.stderr and (folder / "audit.json").is_file()
