"""``governance audit diff``: rule outcomes and every group's numbers side by side, change intervals, --fail-on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from monitoring_support import audit, decisions, make_workspace, run


def _two_audits(tmp_path: Path, register_url: str) -> tuple[Path, str, str]:
    root = make_workspace(tmp_path / "ws", register_url)
    first = audit(root, register_url, "1", decisions(4000, rate_a=0.5, rate_b=0.5, seed=1))
    second = audit(root, register_url, "2", decisions(4000, rate_a=0.5, rate_b=0.3, seed=2))
    return root, first, second


def test_diff_shows_the_rule_that_moved_and_the_change_with_its_interval(
    tmp_path: Path, register_url: str
) -> None:
    root, first, second = _two_audits(tmp_path, register_url)
    result = run(root, register_url, "audit", "diff", "m@1", "m@2")
    assert result.exit_code == 0, result.output
    assert f"Before: {first}" in result.output and f"After:  {second}" in result.output
    assert "pass -> fail" in result.output
    assert "group = B: selection_rate impact ratio:" in result.output
    assert "The model changed" in result.output and "The data changed" in result.output


def test_fail_on_worse_exits_1_and_json_holds_every_number(tmp_path: Path, register_url: str) -> None:
    root, first, second = _two_audits(tmp_path, register_url)
    failing = run(root, register_url, "audit", "diff", first, second, "--fail-on", "worse")
    assert failing.exit_code == 1, failing.output
    assert "Worse: The blocking rule four-fifths-selection moved from pass to fail." in failing.output
    shown = run(root, register_url, "audit", "diff", first, second, "--json")
    assert shown.exit_code == 0
    diff = json.loads(shown.output)
    ratio = next(m for m in diff["metrics"] if m["group"] == "B" and m["quantity"] == "impact_ratio")
    change = ratio["change"]
    assert change["low"] < change["value"] < change["high"] < 0  # about 0.6 - 1.0: down beyond noise
    assert ratio["worse_direction"] == "lower" and ratio["worsened"]
    assert -0.55 < change["value"] < -0.25
    same = next(
        m
        for m in diff["metrics"]
        if m["group"] == "A" and m["quantity"] == "value" and m["metric"] == "selection_rate"
    )
    assert same["change"]["low"] < 0 < same["change"]["high"] and not same["beyond_noise"]
    # the other way round, nothing got worse
    better = run(root, register_url, "audit", "diff", second, first, "--fail-on", "worse")
    assert better.exit_code == 0, better.output


def test_a_ruled_number_worse_beyond_the_tolerance_fails_although_the_rule_still_passes(
    tmp_path: Path, register_url: str
) -> None:
    root = make_workspace(tmp_path / "ws", register_url)
    first = audit(root, register_url, "1", decisions(20_000, rate_a=0.5, rate_b=0.5, seed=1))
    second = audit(root, register_url, "2", decisions(20_000, rate_a=0.5, rate_b=0.44, seed=2))
    strict = run(root, register_url, "audit", "diff", first, second, "--fail-on", "worse")
    assert strict.exit_code == 1, strict.output
    assert "pass -> pass" in strict.output
    assert "Worse: Impact ratio of selection_rate for group = B moved from" in strict.output
    assert "worse than the tolerance of 0.05 over the whole interval" in strict.output
    loose = run(
        root, register_url, "audit", "diff", first, second, "--fail-on", "worse", "--tolerance", "0.5"
    )
    assert loose.exit_code == 0, loose.output


def test_groups_added_and_lost_are_called_out(tmp_path: Path, register_url: str) -> None:
    root = make_workspace(tmp_path / "ws", register_url)
    audit(root, register_url, "1", decisions(600, seed=1, groups=("A", "B", "C")))
    audit(root, register_url, "2", decisions(600, seed=2, groups=("A", "B", "D")))
    result = run(root, register_url, "audit", "diff", "m@1", "m@2", "--json")
    diff = json.loads(result.output)
    assert diff["groups_added"] == ["group = D"]
    assert diff["groups_lost"] == ["group = C"]


def test_audit_json_paths_work_without_a_register(tmp_path: Path, register_url: str) -> None:
    root, _first, _second = _two_audits(tmp_path, register_url)
    paths = sorted((root / "audits" / "m").rglob("audit.json"))
    result = run(root, register_url, "audit", "diff", str(paths[0].parent), str(paths[1]))
    assert result.exit_code == 0, result.output


def test_bad_references_are_one_sentence_exit_2(tmp_path: Path, register_url: str) -> None:
    root, first, _second = _two_audits(tmp_path, register_url)
    for args, words in [
        (("no-such-audit", first), "No audit with the id 'no-such-audit' is recorded"),
        ((first, first), "Both names point at the same audit"),
        (("m@9", first), "m has no version '9'"),
        (("nobody@1", first), "No model named 'nobody' is registered"),
        ((first, "m@2", "--fail-on", "better"), "better is not a choice"),
        ((first, "m@2", "--tolerance", "-1"), "--tolerance must be 0 or more"),
    ]:
        result = run(root, register_url, "audit", "diff", *args)
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output, result.output
        assert "Traceback" not in result.output


def test_a_version_without_audits_and_an_edited_audit_file(tmp_path: Path, register_url: str) -> None:
    root = make_workspace(tmp_path / "ws", register_url, versions=("1", "2"))
    first = audit(root, register_url, "1", decisions(600, seed=1))
    result = run(root, register_url, "audit", "diff", first, "m@2")
    assert result.exit_code == 2 and "m@2 has no recorded audit yet" in result.output
    path = next((root / "audits" / "m" / "1").rglob("audit.json"))
    path.write_text(path.read_text().replace('"passed"', '"failed"'), encoding="utf-8")
    second = audit(root, register_url, "2", decisions(600, seed=2))
    edited = run(root, register_url, "audit", "diff", first, second)
    assert edited.exit_code == 4, edited.output
    assert "changed after it was recorded" in edited.output


def test_a_negative_tolerance_names_the_argument_from_python(tmp_path: Path) -> None:
    """The library names ``tolerance``; the command line says ``--tolerance`` (issue 12, point 5)."""
    from governance.cli._common import cli_message
    from governance.compare.run import diff_audits
    from governance.errors import GovernanceError
    from governance.workspace import Workspace

    with pytest.raises(GovernanceError) as caught:
        diff_audits("a", "b", workspace=Workspace(root=tmp_path), tolerance=-1)
    assert str(caught.value) == "tolerance must be 0 or more, not -1."
    assert cli_message(caught.value) == "--tolerance must be 0 or more, not -1."
