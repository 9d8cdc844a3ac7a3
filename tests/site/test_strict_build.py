"""Strict means strict: a policy template, checklist or page that cannot be rendered fails `site build` (exit 1)
naming the file and line, and replaces nothing; `--keep-going` builds the rest with those pages marked broken."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli
from tests.site.conftest import WorkspaceFactory, make_audit


def _build(root: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(root), *extra])
    return result.exit_code, result.output


def _break_template(root: Path) -> Path:
    template = sorted((root / "policies" / "templates").glob("*.md"))[0]
    lines = template.read_text(encoding="utf-8").splitlines()
    lines.insert(len(lines) - 1, "Contact {{ organisation.nmae }} for help.")  # a typo in a variable name
    template.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return template


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_a_template_with_a_typo_fails_the_build_and_names_file_and_line(
    workspace_factory: WorkspaceFactory,
) -> None:
    root = workspace_factory(make_audit("credit-risk", "1.0.0", "20261101T000000Z-aaaa0001"))
    code, _ = _build(root)
    assert code == 0
    before_docs, before_site = _tree(root / "docs" / "generated"), _tree(root / "site")
    template = _break_template(root)
    line = (
        template.read_text(encoding="utf-8").splitlines().index("Contact {{ organisation.nmae }} for help.")
        + 1
    )

    code, output = _build(root)

    assert code == 1, output
    assert template.name in output and f"line {line}" in output and "nmae" in output
    assert "--keep-going" in output and "Traceback" not in output
    assert _tree(root / "docs" / "generated") == before_docs, "a failed build replaced the generated pages"
    assert _tree(root / "site") == before_site, "a failed build replaced the site"
    assert not [p for p in root.rglob(".*") if p.is_dir() and p.name.startswith((".generated", ".site"))]


def test_keep_going_builds_the_rest_and_marks_the_page_broken(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory(make_audit("credit-risk", "1.0.0", "20261101T000000Z-aaaa0001"))
    template = _break_template(root)

    code, output = _build(root, "--keep-going")

    assert code == 1, "a site with a broken page is not a successful build"
    assert "marked broken" in output and template.name in output
    assert (root / "site" / "index.html").is_file()
    page = (root / "site" / "generated" / "policies" / f"{template.stem}.html").read_text(encoding="utf-8")
    assert "This page is broken" in page and "nmae" in page
    assert (root / "site" / "generated" / "models" / "credit-risk.html").is_file()


def test_a_broken_checklist_fails_the_build(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory(make_audit("credit-risk", "1.0.0", "20261101T000000Z-aaaa0001"))
    checklist = sorted((root / "policies" / "checklists").glob("*.yaml"))[0]
    checklist.write_text(checklist.read_text(encoding="utf-8") + "\nitems: [unclosed\n", encoding="utf-8")

    code, output = _build(root)

    assert code == 1, output
    assert checklist.name in output and "checklists could not be built" in output


def test_a_template_syntax_error_names_the_line_of_the_file(workspace_factory: WorkspaceFactory) -> None:
    root = workspace_factory()
    template = sorted((root / "policies" / "templates").glob("*.md"))[0]
    text = template.read_text(encoding="utf-8").rstrip("\n") + "\n{% if policy.owner %}\nnever closed\n"
    template.write_text(text, encoding="utf-8")
    line = text.splitlines().index("{% if policy.owner %}") + 1

    code, output = _build(root, "--no-mkdocs")

    assert code == 1, output
    assert template.name in output and "template error" in output and "of the file" in output
    assert f"line {line}" in output or f"line {line + 1}" in output  # Jinja2 reports where it noticed
