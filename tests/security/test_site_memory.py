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
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from governance.results.audit import AuditResult
from governance.scaffold import init_workspace
from tests.security.test_site_scale import ROOT, _template, add_audit

MODELS = ("credit", "hiring")
# The peak may grow by this much per added audit: the register's own rows of an audit (its event, its files'
# hashes) and the slim copy the build keeps (ids, dates, verdict, two ratios per attribute) take a few kB.
# The earlier code grew by about 110 kB per audit without MkDocs and 160 kB with it, on these audits.
PER_AUDIT_BYTES = 30_000

PEAK = """
import json, sys, tracemalloc
from governance.register import Register
from governance.site import build_site
from governance.workspace import find_workspace
workspace = find_workspace(sys.argv[1])
def export():
    with Register.for_workspace(workspace) as register:
        register.export()
export()  # its modules are imported once, outside what is measured
tracemalloc.start()
export()
register_peak = tracemalloc.get_traced_memory()[1]
tracemalloc.stop()
tracemalloc.start()
build_site(workspace, run_mkdocs=sys.argv[2] == "mkdocs")
print(json.dumps({"peak": tracemalloc.get_traced_memory()[1], "register": register_peak}))
"""


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    root = tmp_path_factory.mktemp("template") / "ws"
    init_workspace(root, organisation="Acme Lending")
    return _template(root)


def peak_bytes(root: Path, *, mkdocs: bool) -> int:
    """The traced peak of one build from scratch beyond that of reading the register's export (its own rows,
    which grow with every audit recorded), in a fresh process, so that nothing is shared or cached."""
    shutil.rmtree(root / "site", ignore_errors=True)
    shutil.rmtree(root / "docs" / "generated", ignore_errors=True)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")},
        "PYTHONPATH": str(ROOT),
        "NO_MKDOCS_2_WARNING": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", PEAK, str(root), "mkdocs" if mkdocs else "pages"],
        capture_output=True, text=True, env=env, cwd=root, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return int(measured["peak"]) - int(measured["register"])


def growth_per_audit(root: Path, template: AuditResult, *, mkdocs: bool, small: int, large: int) -> float:
    """Build with ``small`` then ``large`` audits per model; the peak's growth divided by the audits added."""
    init_workspace(root, organisation="Acme Lending")
    number = 0
    for count, target in ((0, small), (small, large)):
        for _ in range(count, target):
            number += 1
            for name in MODELS:
                add_audit(root, template, name, "1.0", number)
        if count == 0:
            first = peak_bytes(root, mkdocs=mkdocs)
    second = peak_bytes(root, mkdocs=mkdocs)
    return (second - first) / (len(MODELS) * (large - small))


def test_writing_the_pages_takes_no_more_memory_for_more_audits(
    tmp_path: Path, template: AuditResult
) -> None:
    growth = growth_per_audit(tmp_path / "ws", template, mkdocs=False, small=2, large=6)
    assert growth < PER_AUDIT_BYTES, f"{growth / 1000:.0f} kB more per audit"


@pytest.mark.slow
def test_the_whole_build_takes_no_more_memory_for_more_audits(tmp_path: Path, template: AuditResult) -> None:
    growth = growth_per_audit(tmp_path / "ws", template, mkdocs=True, small=2, large=8)
    assert growth < PER_AUDIT_BYTES, f"{growth / 1000:.0f} kB more per audit"
