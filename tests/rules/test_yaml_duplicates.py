"""Duplicated YAML keys are errors everywhere the toolkit reads YAML, never a silent "last one wins"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.checklists.loading import load_checklist, validate_checklist_file
from governance.cli.main import cli
from governance.documents.templates import parse_policy_template
from governance.errors import InputError
from governance.paths import bundled_policies
from governance.rules.load import parse_policy
from governance.workspace import find_workspace, load_config
from governance.yamlload import DuplicateKeyError, load_yaml

DOWNGRADED = """\
name: mine
rules:
  - id: four-fifths
    description: ratio
    metric: selection_rate
    comparison: impact_ratio
    bound: ">= 0.8"
    severity: block
    severity: warn
"""

SENTENCE = (
    "the key 'severity' is given twice (lines 8 and 9), and YAML would silently keep only the last; "
    "delete the one you do not mean."
)


def test_a_policy_with_a_duplicated_key_is_refused_with_the_key_and_both_lines() -> None:
    with pytest.raises(InputError) as error:
        parse_policy(DOWNGRADED, source="p.yaml")
    assert str(error.value) == f"p.yaml: {SENTENCE}"
    assert error.value.exit_code == 2


def test_policy_validate_exits_2_on_a_duplicated_key(tmp_path: Path) -> None:
    policy = tmp_path / "mine.yaml"
    policy.write_text(DOWNGRADED, encoding="utf-8")
    result = CliRunner().invoke(cli, ["policy", "validate", str(policy)])
    assert result.exit_code == 2, result.output
    assert result.output == f"Error: mine.yaml: {SENTENCE}\n"


def test_an_audit_under_a_policy_with_a_duplicated_key_stops_before_writing(tmp_path: Path) -> None:
    policy = tmp_path / "mine.yaml"
    policy.write_text(DOWNGRADED, encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("g,y,p\n" + "a,1,1\nb,0,0\n" * 40, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--no-register",
            "--workspace",
            str(tmp_path),
            "--data",
            str(data),
            "--predictions",
            "p",
            "--target",
            "y",
            "--sensitive",
            "g",
            "--policy",
            str(policy),
        ],
    )
    assert result.exit_code == 2, result.output
    assert "the key 'severity' is given twice (lines 8 and 9)" in result.output
    assert not (tmp_path / "audits").exists()


def test_duplicates_at_the_top_level_and_in_flow_mappings() -> None:
    with pytest.raises(DuplicateKeyError, match=r"'name' is given twice \(lines 1 and 3\)"):
        load_yaml("name: a\nrules: []\nname: b\n", source="x")
    with pytest.raises(DuplicateKeyError, match=r"'a' is given twice \(lines 1 and 1\)"):
        load_yaml("{a: 1, a: 2}\n", source="x")


def test_merge_keys_and_equal_values_under_different_parents_are_fine() -> None:
    text = "base: &b {k: 1}\nchild:\n  <<: *b\n  k: 2\nother:\n  k: 3\n"
    assert load_yaml(text, source="x") == {"base": {"k": 1}, "child": {"k": 2}, "other": {"k": 3}}


def test_governance_yaml_with_a_duplicated_key_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "governance.yaml"
    config.write_text("organisation:\n  name: A\n  name: B\n", encoding="utf-8")
    with pytest.raises(DuplicateKeyError) as error:
        load_config(config)
    assert "'name' is given twice (lines 2 and 3)" in str(error.value)
    assert str(config) in str(error.value)
    with pytest.raises(DuplicateKeyError):
        find_workspace(tmp_path)


def test_a_checklist_with_a_duplicated_key_is_a_problem_with_both_lines(tmp_path: Path) -> None:
    shipped = (bundled_policies() / "checklists" / "gdpr.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "gdpr.yaml"
    broken.write_text(shipped + "framework: gdpr\n", encoding="utf-8")
    problems = validate_checklist_file(broken)
    assert len(problems) == 1
    first = shipped.splitlines().index("framework: gdpr") + 1
    last = len(shipped.splitlines()) + 1
    assert f"the key 'framework' is given twice (lines {first} and {last})" in str(problems[0])
    with pytest.raises(InputError, match="is given twice"):
        load_checklist(broken)


def test_a_policy_template_front_matter_duplicate_names_the_file_lines() -> None:
    text = "---\nid: x\nid: y\n---\nbody\n"
    with pytest.raises(InputError, match=r"'id' is given twice \(lines 2 and 3\)"):
        parse_policy_template(text, name="t.md")


def test_every_shipped_yaml_file_has_no_duplicated_key() -> None:
    for path in sorted(bundled_policies().rglob("*.y*ml")):
        load_yaml(path.read_text(encoding="utf-8"), source=str(path))


def test_no_module_reads_yaml_around_the_strict_loader() -> None:
    package = Path(__file__).resolve().parents[2] / "governance"
    offenders = [
        f"{path.relative_to(package)}:{number}"
        for path in sorted(package.rglob("*.py"))
        if path.name != "yamlload.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"yaml\.(safe_load|load|full_load|unsafe_load)\(", line)
    ]
    assert offenders == []
