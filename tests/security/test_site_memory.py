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
# What the build may keep per audit beyond the register's own rows: its slim copy (ids, dates, verdict, two
# ratios per attribute) and the names of its pages and figures, a few kB. The earlier code kept about 60 kB per
# audit of these small ones while writing the pages, and about 150 kB once MkDocs had rendered them.
PER_AUDIT_BYTES = 20_000

# The build runs whole, in a child process; the memory it holds is traced at its fullest moment: when every page
# is written, before the new pages are swapped in (every audit read, nothing dropped yet), and, with MkDocs,
# when every page has been rendered, before the search index is written. Held means still referenced then:
# Python's own table of interned path names and the register's export (its rows, read from the register) are
# not the site's to bound, and the build is run once before, so that imports and caches are not counted.
KEPT = """
import gc, json, shutil, sys, tracemalloc
from pathlib import Path
import governance.site.build as build
from governance.workspace import find_workspace
root, mkdocs = Path(sys.argv[1]), sys.argv[2] == "mkdocs"
held = []

def measure():
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([
        tracemalloc.Filter(False, "*/governance/register/*", all_frames=True),
        tracemalloc.Filter(False, "*/pathlib.py", lineno=None),
    ])
    held.append(sum(stat.size for stat in snapshot.statistics("filename")))

def clean():
    shutil.rmtree(root / "site", ignore_errors=True)
    shutil.rmtree(root / "docs" / "generated", ignore_errors=True)

swap_in = build.swap_in
def measured_swap(*args, **kwargs):
    measure()
    return swap_in(*args, **kwargs)

from mkdocs.plugins import PluginCollection
post_build = PluginCollection.on_post_build
def measured_post_build(self, **kwargs):
    measure()
    return post_build(self, **kwargs)

clean()
build.build_site(find_workspace(root), run_mkdocs=mkdocs)  # imports, caches, interned names: not measured
clean()
build.swap_in = measured_swap
PluginCollection.on_post_build = measured_post_build
tracemalloc.start(12)
build.build_site(find_workspace(root), run_mkdocs=mkdocs)
print(json.dumps({"held": max(held)}))
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    root = tmp_path_factory.mktemp("template") / "ws"
    init_workspace(root, organisation="Acme Lending")
    return _template(root)


def held_bytes(root: Path, *, mkdocs: bool) -> int:
    """The most a build from scratch holds (see ``KEPT``), in a fresh process, so that nothing is shared."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")},
        "PYTHONPATH": str(ROOT),
        "NO_MKDOCS_2_WARNING": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", KEPT, str(root), "mkdocs" if mkdocs else "pages"],
        capture_output=True, text=True, env=env, cwd=root, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return int(json.loads(done.stdout.strip().splitlines()[-1])["held"])


def growth_per_audit(root: Path, template: AuditResult, *, mkdocs: bool, small: int, large: int) -> float:
    """Build with ``small`` then ``large`` audits per model; what the build holds more, per audit added."""
    init_workspace(root, organisation="Acme Lending")
    number = 0
    for count, target in ((0, small), (small, large)):
        for _ in range(count, target):
            number += 1
            for name in MODELS:
                add_audit(root, template, name, "1.0", number)
        if count == 0:
            first = held_bytes(root, mkdocs=mkdocs)
    second = held_bytes(root, mkdocs=mkdocs)
    return (second - first) / (len(MODELS) * (large - small))


@pytest.mark.slow  # about a minute; at these sizes caches of about 2 MB can still blur an 8-audit difference
def test_writing_the_pages_takes_no_more_memory_for_more_audits(
    tmp_path: Path, template: AuditResult
) -> None:
    growth = growth_per_audit(tmp_path / "ws", template, mkdocs=False, small=2, large=6)
    assert growth < PER_AUDIT_BYTES, f"{growth / 1000:.0f} kB more per audit"


@pytest.mark.slow
def test_the_whole_build_takes_no_more_memory_for_more_audits(tmp_path: Path, template: AuditResult) -> None:
    growth = growth_per_audit(tmp_path / "ws", template, mkdocs=True, small=2, large=8)
    assert growth < PER_AUDIT_BYTES, f"{growth / 1000:.0f} kB more per audit"


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
