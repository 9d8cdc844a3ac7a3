"""`governance init`: a workspace that builds at once, idempotent, and never overwriting the user's edits."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli
from governance.paths import bundled_policies
from governance.scaffold import FILES_DIR, init_workspace
from governance.workspace import find_workspace

REPO = Path(__file__).resolve().parents[2]


def _snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(root).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_init_writes_a_workspace_that_builds(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "ws"), "--organisation", "Acme Lending"])
    assert result.exit_code == 0, result.output
    root = tmp_path / "ws"
    for path in (
        "governance.yaml",
        "mkdocs.yml",
        "docs/index.md",
        "docs/assets/iframe-worker/shim.js",
        ".governance/init-manifest.json",
    ):
        assert (root / path).is_file(), path
    assert (root / "audits").is_dir() and (root / "docs" / "generated").is_dir()
    shipped = sorted(
        p.relative_to(bundled_policies()).as_posix() for p in bundled_policies().rglob("*") if p.is_file()
    )
    copied = sorted(
        p.relative_to(root / "policies").as_posix() for p in (root / "policies").rglob("*") if p.is_file()
    )
    assert copied == shipped and shipped
    workspace = find_workspace(root)
    assert workspace.organisation == "Acme Lending"
    assert workspace.suppression_threshold == 10
    built = CliRunner().invoke(cli, ["site", "build", "--workspace", str(root)])
    assert built.exit_code == 0, built.output
    assert (root / "site" / "index.html").is_file()


def test_running_init_twice_changes_nothing(tmp_path: Path) -> None:
    init_workspace(tmp_path, organisation="Acme")
    before = _snapshot(tmp_path)
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output == f"Nothing to change in {tmp_path.resolve()}: the workspace is up to date.\n"
    assert _snapshot(tmp_path) == before  # same bytes, not even rewritten
    assert "Acme" in (tmp_path / "governance.yaml").read_text(
        encoding="utf-8"
    )  # the name is kept without the option


def test_edited_files_are_kept_unless_forced(tmp_path: Path) -> None:
    init_workspace(tmp_path)
    config = tmp_path / "governance.yaml"
    edited = config.read_text(encoding="utf-8").replace("min_cell_size: 10", "min_cell_size: 20")
    config.write_text(edited, encoding="utf-8")
    (tmp_path / "docs" / "index.md").unlink()
    result = CliRunner().invoke(cli, ["init", str(tmp_path)])
    assert result.exit_code == 0
    assert "Kept governance.yaml (you edited it; --force replaces it)" in result.output
    assert "Created docs/index.md" in result.output  # a deleted file comes back
    assert config.read_text(encoding="utf-8") == edited
    forced = CliRunner().invoke(cli, ["init", str(tmp_path), "--force"])
    assert "Updated governance.yaml" in forced.output
    assert "min_cell_size: 10" in config.read_text(encoding="utf-8")


def test_a_file_that_was_there_before_init_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "mkdocs.yml").write_text("site_name: Mine\n", encoding="utf-8")
    report = init_workspace(tmp_path)
    assert report.kept == ["mkdocs.yml"]
    assert (tmp_path / "mkdocs.yml").read_text(encoding="utf-8") == "site_name: Mine\n"
    manifest = json.loads((tmp_path / ".governance/init-manifest.json").read_text(encoding="utf-8"))
    assert "mkdocs.yml" not in manifest["files"]


def test_an_unedited_file_is_updated_when_the_shipped_one_changes(tmp_path: Path) -> None:
    init_workspace(tmp_path)
    index = tmp_path / "docs" / "index.md"
    manifest_path = tmp_path / ".governance/init-manifest.json"
    # simulate an older toolkit having written a different index.md, recorded in the manifest
    old = b"# Old home page\n"
    index.write_bytes(old)
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    from governance.provenance import sha256_bytes

    manifest["files"]["docs/index.md"] = sha256_bytes(old)
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    report = init_workspace(tmp_path)
    assert report.updated == ["docs/index.md"]
    assert index.read_bytes() != old


def test_organisation_name_is_escaped_where_it_reaches_html(tmp_path: Path) -> None:
    init_workspace(tmp_path, organisation="<script>alert(1)</script> & Co")
    assert "<script>" not in (tmp_path / "docs" / "index.md").read_text(encoding="utf-8")
    assert "<script>" not in (tmp_path / "mkdocs.yml").read_text(encoding="utf-8")
    assert (
        find_workspace(tmp_path).organisation == "<script>alert(1)</script> & Co"
    )  # the setting keeps the name


def test_init_into_a_file_is_one_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["init", str(target)])
    assert result.exit_code == 2
    assert "Error:" in result.output


def test_repository_assets_match_the_scaffold() -> None:
    for path in (FILES_DIR / "docs" / "assets").rglob("*"):
        if path.is_file():
            relative = path.relative_to(FILES_DIR)
            assert (REPO / relative).read_bytes() == path.read_bytes(), relative
