"""Site build benchmark: synthetic workspaces with a real register, N models x M audits.

For each size it prints, over ``--runs`` runs (min and median): the build from scratch (no ``site/``, no
``docs/generated/``), the rebuild after one new audit is recorded, the peak memory of the build process and,
beside it, of plain MkDocs building the same generated pages in a fresh process (the floor: what MkDocs itself
takes), and the time per audit of the build from scratch (flat when growth is linear); then how much both peaks
grow per added audit between the sizes (about 0 when flat).

Each workspace is generated once under ``benchmarks/_data/site/`` (git-ignored): one real audit of saved
predictions (race x sex and their intersection, as in benchmarks/end_to_end) is computed, then copied under new ids, models and
versions; every copy is written as the audit command writes it (audit.json, report.md, figures) and recorded in
the workspace's SQLite register, so the site reads every file through the register's hashes as it does for real.
Every run works on a fresh copy of that workspace and runs ``governance site build`` as a child process.

Run: ``.venv/bin/python benchmarks/site/run.py [--sizes 10x10,20x10,50x20] [--runs 3]``
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "_data" / "site"
PYTHON = sys.executable
GOVERNANCE = str(Path(PYTHON).with_name("governance"))
ACTOR = "bench@example.com"
AUDITS_PER_VERSION = 4


def template_audit(root: Path):  # type: ignore[no-untyped-def]
    """One real audit of saved predictions: 20,000 rows, race (5) and sex (2) with their intersection."""
    import numpy as np
    import pandas as pd

    from governance.audit.run import audit
    from governance.workspace import find_workspace

    rng = np.random.default_rng(20261129)
    n = 20_000
    race = rng.choice(["asian", "black", "hispanic", "other", "white"], size=n, p=[0.1, 0.15, 0.2, 0.05, 0.5])
    sex = rng.choice(["female", "male"], size=n)
    y_true = (rng.random(n) < 0.35).astype(int)
    y_pred = (rng.random(n) < 0.3 + 0.2 * y_true).astype(int)
    data = root / "holdout.csv"
    pd.DataFrame({"race": race, "sex": sex, "y_true": y_true, "y_pred": y_pred}).to_csv(data, index=False)
    outcome = audit(
        name="template", version="1", data=data, sensitive=["race", "sex"], target="y_true",
        predictions="y_pred", explain=False, workspace=find_workspace(root), write=False,
    )  # fmt: skip
    return outcome.result


def add_audit(register, root: Path, template, name: str, version: str, number: int) -> None:  # type: ignore[no-untyped-def]
    """Write one copy of the template as the audit command does, and record it in the register."""
    from governance.report.figures import write_figures
    from governance.report.markdown import render_report

    sha = register.resolve_version(name, version).sha256
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    created = f"2026-{month:02d}-{day:02d}T{number % 24:02d}:{number % 60:02d}:00Z"
    audit_id = f"20260101T000000Z-{name}-{number:04d}"
    result = template.model_copy(
        update={
            "audit_id": audit_id,
            "model": template.model.model_copy(update={"name": name, "version": version, "sha256": sha}),
            "provenance": template.provenance.model_copy(update={"created_at": created}),
        }
    )
    folder = root / "audits" / name / version / audit_id
    folder.mkdir(parents=True)
    written = write_figures(result, folder / "figures")
    (folder / "audit.json").write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(render_report(result, figures=written), encoding="utf-8")
    register.record_audit(
        name, version, audit_id=audit_id, audit_json_path=folder / "audit.json", verdict=result.policy.verdict,
        policy_name=result.policy.policy_name, policy_sha256=result.policy.policy_sha256,
        data_sha256=result.data.sha256, artifact_sha256=sha, tool_versions={}, actor=ACTOR,
        max_age_days=result.policy.max_audit_age_days, from_predictions=True,
    )  # fmt: skip


def version_of(number: int) -> str:
    return f"1.{number // AUDITS_PER_VERSION}"


def ensure_version(register, root: Path, name: str, version: str) -> None:  # type: ignore[no-untyped-def]
    artefact = root / "models" / f"{name}-{version}.bin"
    if artefact.exists():
        return
    artefact.parent.mkdir(exist_ok=True)
    artefact.write_bytes(f"model {name} {version}".encode())
    register.add_version(name, version, artifact_path=artefact, actor=ACTOR)


def generate(models: int, audits: int) -> Path:
    """The workspace for ``models`` x ``audits`` (generated once, reused)."""
    from governance.register import Register
    from governance.scaffold import init_workspace
    from governance.workspace import find_workspace

    root = DATA / f"{models}x{audits}"
    if (root / ".complete").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    init_workspace(root, organisation="Bench Lending")
    template = template_audit(root)
    started = time.perf_counter()
    with Register.for_workspace(find_workspace(root)) as register:
        for index in range(models):
            name = f"model-{index:03d}"
            register.add_model(name, owner="owner@example.com", purpose="Rank applications", actor=ACTOR)
            for number in range(audits):
                ensure_version(register, root, name, version_of(number))
                add_audit(register, root, template, name, version_of(number), number)
    (root / ".complete").write_text("", encoding="utf-8")
    print(f"  generated {models}x{audits} in {time.perf_counter() - started:.0f} s", flush=True)
    return root


def new_audit(root: Path, models: int, audits: int) -> None:
    """Record one more audit of the first model, as a user would between two builds."""
    from governance.register import Register
    from governance.workspace import find_workspace

    with Register.for_workspace(find_workspace(root)) as register:
        template_json = next((root / "audits").rglob("audit.json"))
        from governance.results.audit import AuditResult

        template = AuditResult.model_validate_json(template_json.read_bytes())
        name, number = "model-000", audits
        ensure_version(register, root, name, version_of(number))
        add_audit(register, root, template, name, version_of(number), number)


# A small process starts each measured one and reports its children's usage: a child started straight from this
# process (which holds the generated workspace's libraries and data, ~170 MB) inherited this process's resident
# size in its peak (Linux counts the memory it had at the moment it started the program), so the build's peak
# read as this process's: 176 MB at 200 and 177 MB at 1,000 audits, for builds that peak at about 96 MB.
MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
sys.stderr.buffer.write(done.stderr)
print(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024, done.returncode)
"""


def _measured(command: list[str], root: Path, env: dict[str, str], what: str) -> tuple[float, float, int]:
    """Wall time, CPU time and peak RSS (MB) of ``command`` run in ``root``, through ``MEASURE``."""
    done = subprocess.run(
        [PYTHON, "-c", MEASURE, *command], cwd=root, env=env, capture_output=True, text=True
    )
    seconds, cpu, peak, code = done.stdout.split()
    if int(code) != 0:
        raise SystemExit(f"{what} failed in {root}:\n{done.stderr}")
    return float(seconds), float(cpu), int(peak)


def build(root: Path) -> tuple[float, float, int]:
    """``governance site build`` in ``root`` as a child process: wall time, CPU time and peak RSS (MB)."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "GOVERNANCE_WORKSPACE": str(root)}
    env.pop("GOVERNANCE_REGISTER_URL", None)
    return _measured([GOVERNANCE, "site", "build"], root, env, "site build")


def floor(root: Path) -> tuple[float, float, int]:
    """Plain MkDocs building the very pages the build generated (same mkdocs.yml, same plugins) in a fresh
    process, into a scratch folder: what MkDocs itself takes, the floor of the whole build's peak memory."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    target = root / ".floor-site"
    try:
        command = [PYTHON, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(target)]
        return _measured(command, root, env, "plain mkdocs build")
    finally:
        shutil.rmtree(target, ignore_errors=True)


def measure(models: int, audits: int, runs: int) -> dict[str, list[float]]:
    base = generate(models, audits)
    measured: dict[str, list[float]] = {
        "scratch": [],
        "rebuild": [],
        "memory": [],
        "peak": [],
        "per_audit": [],
        "scratch_cpu": [],
        "rebuild_cpu": [],
        "floor": [],
        "floor_cpu": [],
    }
    for run in range(runs):
        work = DATA / "work"
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(base, work, symlinks=True)
        (work / ".complete").unlink()
        seconds, cpu, memory = build(work)
        measured["scratch"].append(seconds)
        measured["scratch_cpu"].append(cpu)
        measured["memory"].append(memory)
        measured["per_audit"].append(seconds / (models * audits))
        _, floor_cpu, floor_memory = floor(work)
        measured["floor"].append(floor_memory)
        measured["floor_cpu"].append(floor_cpu)
        new_audit(work, models, audits)
        seconds, cpu, memory = build(work)
        measured["rebuild"].append(seconds)
        measured["rebuild_cpu"].append(cpu)
        measured["memory"].append(memory)
        measured["peak"].append(max(measured["memory"][-2:]))
        print(
            f"  run {run + 1}: from scratch {measured['scratch'][-1]:.1f} s (CPU {measured['scratch_cpu'][-1]:.1f} s), "
            f"after one new audit {seconds:.1f} s (CPU {cpu:.1f} s), peak {max(measured['memory'][-2:]):.0f} MB, "
            f"plain MkDocs on the same pages {floor_memory:.0f} MB (CPU {floor_cpu:.1f} s), "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    shutil.rmtree(DATA / "work", ignore_errors=True)
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10x10,20x10,50x20", help="models x audits, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for size in args.sizes.split(","):
        models, audits = (int(part) for part in size.split("x"))
        print(f"== {models} models x {audits} audits", flush=True)
        found = measure(models, audits, args.runs)
        rows.append((size, found))
    print(
        f"\nwall seconds (min / median of {args.runs}), CPU seconds of the build process (median), "
        "peak RSS of a run (the larger of its two builds; min / median), and of plain MkDocs building the same "
        "generated pages in a fresh process (the floor; min / median)"
    )
    print(
        f"size  | audits | {'from scratch':<25} | {'after one new audit':<25} | {'peak memory':<15} | "
        f"{'MkDocs floor':<15} | "
        "per audit (from scratch)"
    )
    for size, found in rows:
        models, audits = (int(part) for part in size.split("x"))
        peak = f"{min(found['peak']):4.0f} / {statistics.median(found['peak']):4.0f} MB"
        print(
            f"{size:<5} | {models * audits:>6} | {_cell(found['scratch'], found['scratch_cpu'])} | "
            f"{_cell(found['rebuild'], found['rebuild_cpu'])} | {peak:<15} | {_mb(found['floor']):<15} | "
            f"{statistics.median(found['per_audit']):.3f} s"
        )
    for (small, low), (large, high) in itertools.pairwise(rows):
        added = _audits(large) - _audits(small)
        growth = (statistics.median(high["peak"]) - statistics.median(low["peak"])) / added * 1000
        floor_growth = (statistics.median(high["floor"]) - statistics.median(low["floor"])) / added * 1000
        print(
            f"peak memory growth from {small} to {large}: {growth:.0f} kB per added audit, plain MkDocs "
            f"{floor_growth:.0f} kB (median runs)"
        )
    print(f"load average at the end (1, 5, 15 min): {', '.join(f'{value:.1f}' for value in os.getloadavg())}")


def _audits(size: str) -> int:
    models, audits = (int(part) for part in size.split("x"))
    return models * audits


def _mb(values: list[float]) -> str:
    return f"{min(values):4.0f} / {statistics.median(values):4.0f} MB"


def _cell(wall: list[float], cpu: list[float]) -> str:
    return f"{min(wall):5.1f} / {statistics.median(wall):5.1f} (CPU {statistics.median(cpu):5.1f})"


if __name__ == "__main__":
    main()
