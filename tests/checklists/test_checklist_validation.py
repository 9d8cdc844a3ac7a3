"""Broken checklist files: every error names the file, the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance.checklists import (
    find_checklist,
    find_item,
    load_checklist,
    load_checklists,
    validate_checklist_file,
)
from governance.errors import PolicyError
from governance.results.commands import cli_message

GOOD = """\
schema_version: "1.0"
framework: demo
title: Demo framework
source: Demo act
as_of: "2026-11-22"
description: A framework for the tests.
items:
  - id: demo.one
    title: First duty
    requirement: Do the first thing properly.
    source: Art 1
    applies_when: [always]
    evidence: {type: human}
    guidance: Say who did it and when.
  - id: demo.two
    title: Second duty
    requirement: Do the second thing properly.
    source: Art 2
    applies_when: [aedt]
    evidence: {type: audit, fields: [policy.verdict]}
    guidance: Met when the audit passed.
"""


def write(tmp_path: Path, text: str, name: str = "demo.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    checklist = load_checklist(write(tmp_path, GOOD))
    assert [item.id for item in checklist.items] == ["demo.one", "demo.two"]
    assert checklist.items[1].framework == "demo"
    assert checklist.items[1].evidence.fields == ["policy.verdict"]


def test_a_missing_field_names_the_item_and_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("    guidance: Met when the audit passed.\n", ""))
    [problem] = validate_checklist_file(path)
    assert problem.field == "items[1]"
    assert problem.line == 15  # the line of "- id: demo.two"
    assert "'guidance' is a required property" in problem.message
    assert str(problem).startswith(f"{path} line 15, field items[1]:")


def test_an_unknown_evidence_type_names_the_field_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("{type: human}", "{type: robot}"))
    [problem] = validate_checklist_file(path)
    assert (problem.field, problem.line) == ("items[0].evidence.type", 13)


def test_audit_evidence_without_fields_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("{type: audit, fields: [policy.verdict]}", "{type: audit}"))
    problems = validate_checklist_file(path)
    assert problems and problems[0].field == "items[1].evidence"


def test_human_evidence_cannot_name_fields(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("{type: human}", "{type: human, fields: [policy.verdict]}"))
    assert validate_checklist_file(path)


def test_an_unknown_condition_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("[aedt]", "[sometimes]"))
    [problem] = validate_checklist_file(path)
    assert (problem.field, problem.line) == ("items[1].applies_when[0]", 19)


def test_an_id_outside_the_framework_and_a_duplicate_id(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("id: demo.two", "id: other.two"))
    [problem] = validate_checklist_file(path)
    assert (problem.field, problem.line) == ("items[1].id", 15)
    assert "must start with the framework id 'demo.'" in problem.message
    path = write(tmp_path, GOOD.replace("id: demo.two", "id: demo.one"))
    [problem] = validate_checklist_file(path)
    assert "used twice" in problem.message and problem.line == 15


def test_invalid_yaml_gives_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("title: First duty", "title: [unclosed"))
    [problem] = validate_checklist_file(path)
    assert problem.line is not None and 9 <= problem.line <= 11
    assert "not valid YAML" in problem.message


def test_load_raises_one_sentence_naming_file_field_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("{type: human}", "{type: robot}"))
    with pytest.raises(PolicyError) as caught:
        load_checklists(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"Checklist {path} line 13, field items[0].evidence.type:")
    assert message.endswith("fix the file and run the command again.")
    assert PolicyError.exit_code == 2


def test_the_same_item_id_in_two_files_is_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(
        tmp_path,
        GOOD.replace("framework: demo", "framework: demo2")
        .replace("id: demo.two", "id: demo2.two")
        .replace("id: demo.one", "id: demo2.one"),
        "b.yaml",
    )
    assert [c.framework for c in load_checklists(tmp_path)] == ["demo", "demo2"]
    write(tmp_path, GOOD, "c.yaml")
    with pytest.raises(PolicyError, match="framework 'demo' is also defined in"):
        load_checklists(tmp_path)


def test_a_missing_folder_says_how_to_create_it(tmp_path: Path) -> None:
    """In the library's words for a Python caller, and as the command line says it."""
    with pytest.raises(PolicyError, match=r"init_workspace\('\.'\)") as raised:
        load_checklists(tmp_path / "nope")
    assert "`governance init`" in cli_message(raised.value)


def test_find_item_and_framework_suggest_what_exists(tmp_path: Path) -> None:
    checklists = load_checklists(write(tmp_path, GOOD).parent)
    assert find_item(checklists, "demo.two").title == "Second duty"
    with pytest.raises(PolicyError, match=r"There is no checklist item 'demo\.tow'; did you mean demo\.two"):
        find_item(checklists, "demo.tow")
    with pytest.raises(PolicyError, match="choose one of: demo"):
        find_checklist(checklists, "eu")


def test_a_changed_copy_of_a_shipped_checklist_is_still_validated_with_its_line(tmp_path: Path) -> None:
    """An unchanged copy of a shipped checklist is read without the JSON Schema validator (the toolkit's own tests
    check the shipped files); one changed byte and it is validated in full, the problem placed on its line."""
    from governance.paths import bundled_policies

    shipped = bundled_policies() / "checklists" / "gdpr.yaml"
    copy = tmp_path / "gdpr.yaml"
    copy.write_bytes(shipped.read_bytes())
    assert load_checklist(copy).framework == "gdpr"
    text = shipped.read_text(encoding="utf-8")
    broken = text.replace("applies_when: [", "applies_when: [sometimes, ", 1)
    assert broken != text
    copy.write_text(broken, encoding="utf-8")
    line = broken.splitlines().index(next(x for x in broken.splitlines() if "sometimes" in x)) + 1
    with pytest.raises(PolicyError, match=rf"gdpr\.yaml line {line}, field items\[\d+\]\.applies_when"):
        load_checklist(copy)
