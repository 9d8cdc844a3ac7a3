"""The site build's peak memory stays flat as audits grow (issue 11, point 8), and the full tables are searchable.

Measured on the earlier code (benchmarks/site/run.py): 143 MB at 100 audits, 191 MB at 200, 469 MB at 1,000,
about 0.36 MB more per audit: every audit's slim copy and compressed bytes, the whole results of every model's
described audits, and in MkDocs every page's HTML and every search entry were held until the end of the build.
These tests build one real workspace (a real register, real audit folders) at two sizes, in a child process
that traces Python's allocations, and bound the peak's growth per added audit; no time is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from governance.results.audit import AuditResult
from governance.scaffold import init_workspace
from governance.site import build_site
from governance.workspace import find_workspace
from tests.security.test_site_scale import ROOT, _template, add_audit

MODELS = ("credit", "hiring")
SMALL, LARGE = 8, 16  # audits per model of the two workspaces: past the few parsed slim copies kept (16)

# The builds run in one child process that traces Python's allocations and builds a small and a large workspace:
# each once first, which takes the one-off steps (imports, the hashes of the code, the cache of slim copies, the
# interpreter's table of interned strings growing to the size the larger one needs), then each again from an empty
# ``site/`` and ``docs/generated/``, its traced peak counted from what the process held when it started.
WARM_PEAKS = """
import gc, json, shutil, sys, tracemalloc
from pathlib import Path
tracemalloc.start()
import governance.site.build as build
from governance.workspace import find_workspace
mkdocs = sys.argv[1] == "mkdocs"
roots = [Path(arg) for arg in sys.argv[2:]]

def peak(root):
    shutil.rmtree(root / "site", ignore_errors=True)
    shutil.rmtree(root / "docs" / "generated", ignore_errors=True)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    build.build_site(find_workspace(root), run_mkdocs=mkdocs)
    return tracemalloc.get_traced_memory()[1] - held

for root in reversed(roots):
    peak(root)
print(json.dumps({"peaks": [peak(root) for root in roots]}))
"""
# How much higher the peak of writing the pages (no MkDocs) may be per added audit. Measured at these sizes:
# 10.0 kB on the code before branch s10-sitemem, where each audit's slim copy was held as JSON (about 2 kB) and
# up to 256 of them parsed (about 9 kB each, filling up between the two sizes); 3-6 kB after (the slim copies wait
# in a temporary file, 16 are kept parsed). What is left at these sizes is mostly noise of a few hundred kB in
# all; at 200 and 1,000 audits see benchmarks/README.md.
PER_AUDIT_BYTES = 8_000
# The same for the whole build, MkDocs included. Earlier figures (2 models, 3 then 16 audits each): about 88 kB
# per audit on the code before branch s8-sitemem, where MkDocs kept every page's HTML, table of contents and
# anchors; 19.9 kB before branch s9-sitemem, 16.7 kB after it. At these sizes: 10.2 kB on the code before branch
# s10-sitemem, about 3 kB after; MkDocs still keeps a few hundred bytes per page (its Page and File objects, each
# page's address and meta).
WHOLE_BUILD_PER_AUDIT_BYTES = 8_000


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    root = tmp_path_factory.mktemp("template") / "ws"
    init_workspace(root, organisation="Acme Lending")
    return _template(root)


def workspace_with(root: Path, template: AuditResult, audits: int) -> Path:
    """A workspace whose models have ``audits`` audits each (one version, so a comparison page per audit)."""
    init_workspace(root, organisation="Acme Lending")
    for number in range(1, audits + 1):
        for name in MODELS:
            add_audit(root, template, name, "1.0", number)
    return root


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory: pytest.TempPathFactory, template: AuditResult) -> tuple[Path, Path]:
    """The small and the large workspace, made once for both tests (each build starts from an empty site)."""
    folder = tmp_path_factory.mktemp("memory")
    small = workspace_with(folder / "small", template, SMALL)
    return small, workspace_with(folder / "large", template, LARGE)


def warm_peaks(*roots: Path, mkdocs: bool = True) -> list[int]:
    """The traced peaks of builds of ``roots`` in one fresh process, after one build of each (see ``WARM_PEAKS``)."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")},
        "PYTHONPATH": str(ROOT),
        "NO_MKDOCS_2_WARNING": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", WARM_PEAKS, "mkdocs" if mkdocs else "pages", *map(str, roots)],
        capture_output=True, text=True, env=env, cwd=roots[0], check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return [int(peak) for peak in json.loads(done.stdout.strip().splitlines()[-1])["peaks"]]


def growth_per_audit(workspaces: tuple[Path, Path], *, mkdocs: bool) -> float:
    peaks = warm_peaks(*workspaces, mkdocs=mkdocs)
    growth = (peaks[1] - peaks[0]) / (len(MODELS) * (LARGE - SMALL))
    print(f"peaks {peaks}, growth: {growth / 1000:.1f} kB per audit")  # shown with -rP
    return growth


@pytest.mark.slow  # about two minutes: two workspaces (16 and 32 audits), each built twice under tracemalloc
def test_writing_the_pages_takes_no_more_memory_for_more_audits(workspaces: tuple[Path, Path]) -> None:
    growth = growth_per_audit(workspaces, mkdocs=False)
    assert growth < PER_AUDIT_BYTES, f"{growth / 1000:.1f} kB more per audit"


@pytest.mark.slow  # two to five minutes: the same workspaces, MkDocs included
def test_the_whole_build_takes_no_more_memory_for_more_audits(workspaces: tuple[Path, Path]) -> None:
    """MkDocs included, with the one-off steps taken before measuring (see ``WARM_PEAKS``)."""
    growth = growth_per_audit(workspaces, mkdocs=True)
    assert growth < WHOLE_BUILD_PER_AUDIT_BYTES, f"{growth / 1000:.1f} kB more per audit"


def search_index(root: Path) -> list[dict[str, str]]:
    data = json.loads((root / "site" / "search" / "search_index.json").read_text(encoding="utf-8"))
    script = (root / "site" / "search" / "search_index.js").read_text(encoding="utf-8")
    assert json.loads(script.removeprefix("var __index = ")) == data  # the offline copy says the same
    return list(data["docs"])


def test_the_full_tables_of_every_audit_are_in_the_search(tmp_path: Path, template: AuditResult) -> None:
    """``details.html`` is a plain page outside MkDocs; its sections are searchable and open at their heading,
    also after a rebuild that renders only the new audit's page (the others keep their entries, once each)."""
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    first = add_audit(root, template, "credit", "1.0", 1)
    build_site(find_workspace(root))
    second = add_audit(root, template, "credit", "1.0", 2)
    build_site(find_workspace(root))
    docs = search_index(root)
    for audit_id in (first, second):
        entries = [entry for entry in docs if f"/{audit_id}/details.html" in entry["location"]]
        locations = [entry["location"] for entry in entries]
        assert len(locations) == len(set(locations)) > 1, locations
        section = next(entry for entry in entries if entry["title"] == "race × sex")
        page, anchor = section["location"].split("#")
        details = (root / "site" / page).read_text(encoding="utf-8")
        assert f'id="{anchor}"' in details
        assert "a × female" in section["text"]  # the intersection's groups, as words a search finds
        assert any("white" in entry["text"] or "female" in entry["text"] for entry in entries)
