"""A site build that scales (issue 11, point 8): a nav of models, compact audit pages, incremental rebuilds.

Measured on the earlier code: the nav listed every audit, so the theme rendered it into every page (quadratic in
pages); every build redrew and re-rendered every page; audit pages carried every table of every intersection;
the model page's figure was drawn with matplotlib. These tests pin what replaced that, on real workspaces with a
real register, without timing anything.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from governance.errors import SiteError
from governance.provenance import set_clock
from governance.register import Register
from governance.results.audit import AuditResult
from governance.scaffold import init_workspace
from governance.site import build_site
from governance.workspace import find_workspace

ACTOR = "ana@example.com"
ROOT = Path(__file__).resolve().parents[2]


def _template(root: Path) -> AuditResult:
    """A real audit of saved predictions: race (3) and sex (2) with their intersection."""
    from governance.audit.run import audit

    rng = np.random.default_rng(7)
    n = 3000
    frame = pd.DataFrame(
        {
            "race": rng.choice(["a", "b", "c"], size=n),
            "sex": rng.choice(["female", "male"], size=n),
            "y_true": (rng.random(n) < 0.4).astype(int),
        }
    )
    frame["y_pred"] = (rng.random(n) < 0.3 + 0.2 * frame["y_true"]).astype(int)
    frame.to_csv(root / "holdout.csv", index=False)
    outcome = audit(
        name="template", version="1", data=root / "holdout.csv", sensitive=["race", "sex"], target="y_true",
        predictions="y_pred", explain=False, n_boot=50, workspace=find_workspace(root), write=False,
    )  # fmt: skip
    return outcome.result


def add_audit(root: Path, template: AuditResult, name: str, version: str, number: int) -> str:
    """Write a copy of the template as the audit command does and record it in the register; returns its id."""
    from governance.report.figures import write_figures
    from governance.report.markdown import render_report

    audit_id = f"20261101T{number:06d}Z-{name}"  # number 1 to 28
    with Register.for_workspace(find_workspace(root)) as register:
        artefact = root / f"{name}-{version}.bin"
        if not artefact.exists():
            if not list(root.glob(f"{name}-*.bin")):  # its first version
                register.add_model(name, owner=ACTOR, purpose="Rank applications", actor=ACTOR)
            artefact.write_bytes(f"{name} {version}".encode())
            register.add_version(name, version, artifact_path=artefact, actor=ACTOR)
        sha = register.resolve_version(name, version).sha256
        result = template.model_copy(
            update={
                "audit_id": audit_id,
                "model": template.model.model_copy(update={"name": name, "version": version, "sha256": sha}),
                "provenance": template.provenance.model_copy(
                    update={"created_at": f"2026-11-{number:02d}T10:00:00Z"}
                ),
            }
        )
        folder = root / "audits" / name / version / audit_id
        folder.mkdir(parents=True)
        written = write_figures(result, folder / "figures")
        (folder / "audit.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
        (folder / "report.md").write_text(render_report(result, figures=written), encoding="utf-8")
        register.record_audit(
            name, version, audit_id=audit_id, audit_json_path=folder / "audit.json", verdict=result.policy.verdict,
            policy_name=result.policy.policy_name, policy_sha256=result.policy.policy_sha256,
            data_sha256=result.data.sha256, artifact_sha256=sha, tool_versions={}, actor=ACTOR,
            max_age_days=result.policy.max_audit_age_days, from_predictions=True,
        )  # fmt: skip
    return audit_id


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    root = tmp_path_factory.mktemp("template") / "ws"
    init_workspace(root, organisation="Acme Lending")
    return _template(root)


@pytest.fixture
def workspace(tmp_path: Path, template: AuditResult) -> Path:
    """Two registered models with two audits each, built once."""
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    for name in ("credit", "hiring"):
        for number in (1, 2):
            add_audit(root, template, name, "1.0", number)
    build_site(find_workspace(root))
    return root


def site_files(root: Path) -> dict[str, os.stat_result]:
    site = root / "site"
    return {path.relative_to(site).as_posix(): path.stat() for path in site.rglob("*") if path.is_file()}


def search_locations(root: Path) -> set[str]:
    data = json.loads((root / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    return {entry["location"].split("#")[0] for entry in data["docs"]}


def audit_pages(root: Path) -> list[str]:
    site = root / "site"
    return sorted(
        path.relative_to(site).as_posix() for path in (site / "generated" / "audits").rglob("index.html")
    )


def test_the_nav_lists_models_and_every_audit_stays_reachable_and_searchable(workspace: Path) -> None:
    nav_only = (workspace / "site" / "404.html").read_text(encoding="utf-8")  # the nav, and no page content
    assert "generated/models/credit.html" in nav_only
    assert "generated/audits/" not in nav_only  # the nav is on every page: it must not grow with the audits
    pages = audit_pages(workspace)
    assert len(pages) == 4
    cards = "".join(
        (workspace / "site" / "generated" / "models" / f"{name}.html").read_text(encoding="utf-8")
        for name in ("credit", "hiring")
    )
    for page in pages:
        assert f'href="../{page.removeprefix("generated/")}"' in cards, page
    assert set(pages) <= search_locations(workspace)


def test_an_audit_page_is_compact_and_its_full_tables_are_one_click_away(workspace: Path) -> None:
    folder = next((workspace / "site" / "generated" / "audits" / "credit").rglob("index.html")).parent
    page = (folder / "index.html").read_text(encoding="utf-8")
    details = (folder / "details.html").read_text(encoding="utf-8")
    assert 'href="details.html"' in page
    heading = re.compile(r"<h3[^>]*>race × sex")
    assert not heading.search(page) and "Differences and ratios to the reference group" not in page
    assert heading.search(details) and "Differences and ratios to the reference group" in details
    assert "Impact ratios" in page and "Verdict" in page  # the summary and each attribute's tables stay


def test_the_details_file_says_what_python_markdown_would(workspace: Path, template: AuditResult) -> None:
    """The small converter gives the same text as Python-Markdown for everything the report writes there,
    hostile group names and masked groups included."""
    import markdown

    from governance.site.audit_page import render_audit_page
    from governance.site.details_html import to_html

    def renamed(group: Any) -> Any:
        return group.model_copy(
            update={"group": f"<script>alert(1)</script> *{group.group}* | [x](javascript:y)"}
        )

    attributes = [
        attribute.model_copy(update={"groups": [renamed(group) for group in attribute.groups]})
        for attribute in template.fairness.attributes
    ]
    hostile = template.model_copy(
        update={"fairness": template.fairness.model_copy(update={"attributes": attributes})}
    )
    for result, k in ((template, 10), (template, 400), (hostile, 10)):
        moved: list[str] = []
        render_audit_page(result, figures=[], min_cell_size=k, model_link="m.md", warnings=[], details=moved)
        ours, theirs = to_html(moved[0]), markdown.markdown(moved[0], extensions=["tables"])
        assert "<script" not in ours and "javascript:" not in re.findall(r'href="([^"]*)"', ours)
        assert _text(ours) == _text(theirs)
        assert re.findall(r"<(t[dh]|h\d|img|strong|em)\b", ours) == re.findall(
            r"<(t[dh]|h\d|img|strong|em)\b", theirs
        )


def _text(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def test_a_rebuild_after_one_new_audit_renders_only_what_changed(
    workspace: Path, template: AuditResult
) -> None:
    before = site_files(workspace)
    kept = workspace / "kept-index.html"
    os.link(workspace / "site" / "generated" / "models" / "hiring.html", kept)
    old_bytes = kept.read_bytes()
    # the newest audit of credit@1.0 so far gains a link to the page comparing it with the new one
    previous = max(page for page in audit_pages(workspace) if "/credit/1.0/" in page)
    new_id = add_audit(workspace, template, "credit", "1.0", 3)
    build_site(find_workspace(workspace))
    after = site_files(workspace)
    unchanged = [page for page in audit_pages(workspace) if new_id not in page and page != previous]
    assert len(unchanged) == 3
    assert after[previous].st_ino != before[previous].st_ino
    for page in [*unchanged, "generated/models/hiring.html"]:
        assert after[page].st_ino == before[page].st_ino, page  # linked from the previous site, not rendered
    assert after["generated/models/credit.html"].st_ino != before["generated/models/credit.html"].st_ino
    assert new_id in (workspace / "site" / "generated" / "models" / "credit.html").read_text(encoding="utf-8")
    assert kept.read_bytes() == old_bytes  # the live site was never written through a shared link
    assert set(audit_pages(workspace)) <= search_locations(
        workspace
    )  # skipped pages keep their search entries


def test_unchanged_generated_pages_keep_their_bytes_and_time_stamps(workspace: Path) -> None:
    generated = workspace / "docs" / "generated"
    before = {path: path.stat().st_mtime_ns for path in generated.rglob("*.md")}
    later = datetime.now(UTC) + timedelta(minutes=1)  # the register page says when it was built: a new minute
    set_clock(lambda: later)
    try:
        build_site(find_workspace(workspace), run_mkdocs=False)
    finally:
        set_clock(None)
    changed = [
        path.relative_to(generated).as_posix()
        for path, mtime in before.items()
        if path.stat().st_mtime_ns != mtime
    ]
    assert changed == ["index.md"]  # only the register page, which says when it was built


def test_a_removed_audit_disappears_from_the_site_and_its_search(
    tmp_path: Path, template: AuditResult
) -> None:
    root = tmp_path / "plain"
    init_workspace(root, organisation="Acme Lending")
    folders = []
    for number in (1, 2):
        audit_id = add_audit(root, template, "credit", "1.0", number)
        folders.append(root / "audits" / "credit" / "1.0" / audit_id)
    # Without a register: deleting a registered audit's folder stops the build (tests/security/test_site_vouches).
    Path(find_workspace(root).register_url.removeprefix("sqlite:///")).unlink()
    build_site(find_workspace(root))
    shutil.rmtree(folders[0])
    build_site(find_workspace(root))
    assert not any(folders[0].name in page for page in audit_pages(root))
    assert not any(folders[0].name in location for location in search_locations(root))
    assert folders[0].name not in (root / "site" / "generated" / "models" / "credit.html").read_text(
        encoding="utf-8"
    )


def test_strict_mode_still_catches_broken_links_on_a_rebuild(workspace: Path) -> None:
    docs = workspace / "docs"
    (docs / "notes.md").write_text("# Notes\n\nSee [the appendix](appendix.md).\n", encoding="utf-8")
    (docs / "appendix.md").write_text("# Appendix\n", encoding="utf-8")
    build_site(find_workspace(workspace))
    (docs / "appendix.md").unlink()  # notes.md did not change, but its link now points nowhere
    with pytest.raises(SiteError, match="appendix"):
        build_site(find_workspace(workspace))
    (docs / "appendix.md").write_text("# Appendix\n", encoding="utf-8")
    build_site(find_workspace(workspace))
    (docs / "broken.md").write_text(
        "# New\n\n[gone](nowhere.md)\n", encoding="utf-8"
    )  # a new page, dirty build
    with pytest.raises(SiteError, match="nowhere"):
        build_site(find_workspace(workspace))


def test_the_model_figure_is_drawn_without_matplotlib(workspace: Path) -> None:
    script = (
        "import sys\n"
        "from governance.site import build_site\n"
        "from governance.workspace import find_workspace\n"
        f"build_site(find_workspace({str(workspace)!r}), run_mkdocs=False)\n"
        "print('matplotlib' in sys.modules)\n"
    )
    env: dict[str, Any] = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "False"
    figure = workspace / "docs" / "generated" / "models" / "figures" / "credit-ratios.svg"
    assert figure.read_text(encoding="utf-8").startswith("<?xml")


def test_a_new_version_whose_audit_drops_a_comparison_page_still_renders_only_what_changed(
    workspace: Path, template: AuditResult
) -> None:
    """The benchmark's rebuild: the new audit is of a new version, so the comparison of the old live version's
    audits is no longer published. That page going away must not rebuild the whole site."""
    before = site_files(workspace)
    dropped = [page for page in before if page.startswith("generated/diffs/credit/")]
    assert len(dropped) == 1
    add_audit(workspace, template, "credit", "2.0", 3)
    build_site(find_workspace(workspace))
    after = site_files(workspace)
    assert not any(page.startswith("generated/diffs/credit/") for page in after)
    hiring = [page for page in before if "/hiring" in page and page.endswith(".html")]
    assert len(hiring) >= 4
    for page in hiring:
        assert after[page].st_ino == before[page].st_ino, page  # linked from the previous site, not rendered
    assert not any(dropped[0] in location for location in search_locations(workspace))


def test_a_page_that_links_to_a_dropped_page_fails_the_strict_rebuild(
    workspace: Path, template: AuditResult
) -> None:
    dropped = next((workspace / "site" / "generated" / "diffs" / "credit").glob("*.html"))
    target = dropped.relative_to(workspace / "site").with_suffix(".md").as_posix()
    (workspace / "docs" / "notes.md").write_text(
        f"# Notes\n\nSee [the change]({target}).\n", encoding="utf-8"
    )
    build_site(find_workspace(workspace))
    add_audit(workspace, template, "credit", "2.0", 3)  # notes.md does not change, its link's target goes
    with pytest.raises(SiteError, match=r"notes\.md"):
        build_site(find_workspace(workspace))


def test_a_rebuild_neither_compares_nor_parses_again_the_audits_that_did_not_change(
    workspace: Path, template: AuditResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Comparing two audits resamples every group, and parsing an audit reads about a megabyte of results: for
    a thousand audits these were most of a rebuild. Both are done once per audit (pair), then kept."""
    import governance.compare
    import governance.site.sources as sources

    compared: list[str] = []
    parsed: list[Path] = []
    real_compare, real_slim = governance.compare.compare_audits, sources._slim_copy

    def compare(before: AuditResult, after: AuditResult, **options: Any) -> Any:
        compared.append(after.audit_id)
        return real_compare(before, after, **options)

    def slim_copy(data: bytes, path: Path, *args: Any) -> Any:
        parsed.append(path)
        return real_slim(data, path, *args)

    monkeypatch.setattr(governance.compare, "compare_audits", compare)
    monkeypatch.setattr(sources, "_slim_copy", slim_copy)
    build_site(find_workspace(workspace))
    assert compared == [] and parsed == []
    new_id = add_audit(workspace, template, "credit", "1.0", 3)
    build_site(find_workspace(workspace))
    assert compared == [new_id]  # the new consecutive pair only
    assert [path.parent.name for path in parsed] == [new_id]
    pages = sorted((workspace / "site" / "generated" / "diffs").rglob("*.html"))
    assert len(pages) == 3 and all(page.stat().st_size > 0 for page in pages)


def test_the_kept_slim_copies_are_those_the_audits_give(workspace: Path) -> None:
    """The slim copies a rebuild takes from ``.governance/`` equal those made from the audits; a file written by
    other code (another first line) is not used, and is rewritten."""
    from governance.site.slim_cache import CACHE_NAME, code_key
    from governance.site.sources import collect

    ws = find_workspace(workspace)
    cache = ws.state_dir / CACHE_NAME
    lines = cache.read_text(encoding="utf-8").splitlines()
    assert lines[0] == code_key() and len(lines) == 1 + 4

    def records(sources: Any) -> list[tuple[Any, ...]]:
        return [(r.result, r.key_ratios, r.digest, r.folder) for r in sources.audits]

    assert records(collect(ws, cache=cache)) == records(collect(ws))
    cache.write_text("older code\n" + "\n".join(lines[1:]) + "\n", encoding="utf-8")
    assert records(collect(ws, cache=cache)) == records(collect(ws))
    assert cache.read_text(encoding="utf-8").splitlines()[0] == code_key()
