"""Latency of the everyday commands, each run as a user runs it: a new process, a 1,000-row CSV, a registered
skops model, the default policy (issue 13, point 3).

Each round registers a new model and walks it through its life: register add, register version, audit with and
without the explanation, approve, deploy, status, checklist status, and four refusals (a misspelt column, a
missing file, the same model file again, an untrusted pickle). Printed per command: the minimum and median
over the rounds, the target, and the ratio to two floors measured in the same run: the interpreter starting
(``python -c pass``) and the libraries the command cannot avoid (SQLAlchemy and pydantic's ``BaseModel`` for
register commands: ``import pydantic`` alone loads almost nothing; for an audit also pandas and skops, which
imports scikit-learn). The toolkit is byte-compiled first, as an installed package is. The load average is printed before and after:
the machine may be shared. On a shared machine the wall clock mostly measures the queue for a core, so each
command's processor time (user + system, from ``getrusage``) is printed too (minimum and median), with its ratio
to the floor's, and the median one-minute load average while the command ran. The floors are measured in every
round, between the commands, so that they see the same load.

``--beside DIR`` also runs both audits with the code of another checkout (for example ``--beside /work/main``),
each right after ours, so that before and after meet the same load; ``--audits-only`` leaves out the register
commands and the refusals (quicker, for work on the audit alone). A third floor, scikit-learn (``import numpy,
pandas, sklearn.base``), is what loading any scikit-learn model costs before skops adds its own imports.

Run: ``.venv/bin/python benchmarks/latency/run.py [--rounds 3] [--beside DIR] [--audits-only]`` (about 2-4 minutes
on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PYTHON = sys.executable
MODEL = REPO / "demo" / "models" / "credit-risk-1.1.0.skops"
CSV = "holdout.csv"
AUDIT = ["--data", CSV, "--target", "risk", "--sensitive", "sex", "--sensitive", "age_band"]

# command label -> (target in seconds, floor label)
TARGETS: dict[str, tuple[float, str]] = {
    "audit (with explanation)": (3.0, "audit libraries"),
    "audit --no-explain": (1.5, "audit libraries"),
    "register add": (1.0, "register libraries"),
    "register version": (1.0, "register libraries"),
    "register approve": (1.0, "register libraries"),
    "register deploy": (1.0, "register libraries"),
    "status": (1.5, "register libraries"),
    "checklist status": (1.5, "register libraries"),
    "refusal: misspelt column (exit 2)": (1.0, "register libraries"),
    "refusal: missing data file (exit 2)": (1.0, "register libraries"),
    "refusal: same model file again (exit 2)": (1.0, "register libraries"),
    "refusal: untrusted pickle (exit 4)": (1.0, "register libraries"),
}
FLOORS = {
    "interpreter": "pass",
    "register libraries": "import click, sqlalchemy; from pydantic import BaseModel",
    "audit libraries": "import click, sqlalchemy, pandas, skops.io; from pydantic import BaseModel",
    "scikit-learn": "import numpy, pandas, sklearn.base",
}
AUDITS = ("audit (with explanation)", "audit --no-explain")
BESIDE = " [beside]"


# processor seconds (user + system) of every process timed, and the one-minute load average when it started, by
# command label; filled by ``timed``
CPU: dict[str, list[float]] = {}
LOAD: dict[str, list[float]] = {}


def timed(
    args: list[str],
    cwd: Path,
    expect: int | None = None,
    label: str | None = None,
    env: dict[str, str] | None = None,
) -> float:
    """Seconds one process takes (its processor seconds go to ``CPU[label]``); a surprising exit code stops the
    benchmark with its message."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label is not None:
        LOAD.setdefault(label, []).append(os.getloadavg()[0])
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env or ENV, check=False)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if label is not None:
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        CPU.setdefault(label, []).append(used)
    if expect is not None and done.returncode != expect:
        sys.exit(f"{' '.join(args[2:])} exited {done.returncode}, not {expect}:\n{done.stderr}")
    return elapsed


ENV = {
    **os.environ,
    "GOVERNANCE_ACTOR": "ana@example.com",
    "PYTHONPATH": str(REPO),
    "NO_MKDOCS_2_WARNING": "1",
}
for _name in ("GOVERNANCE_REGISTER_URL", "GOVERNANCE_WORKSPACE", "GOVERNANCE_REGISTER_HMAC_KEY"):
    ENV.pop(_name, None)


def governance(*args: str) -> list[str]:
    return [PYTHON, "-m", "governance", *args]


def make_workspace(folder: Path) -> Path:
    """A new workspace with the demo's model file, a 1,000-row CSV and a pickle nobody vouched for."""
    import pickle

    import pandas as pd

    from governance.demo.run import age_band
    from governance.paths import demo_data

    root = folder / "ws"
    subprocess.run(governance("init", str(root)), check=True, capture_output=True, env=ENV)
    frame = pd.read_csv(demo_data())
    frame["age_band"] = frame["age"].map(age_band)
    frame.to_csv(root / CSV, index=False)
    shutil.copy(MODEL, root / "model.skops")
    (root / "untrusted.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    return root


def one_round(
    root: Path, index: int, beside: Path | None = None, audits_only: bool = False
) -> dict[str, float]:
    """Every command once, on a model of its own (with ``beside``, each audit also with that checkout's code)."""
    name, ref = f"credit-{index}", f"credit-{index}@1.0"
    took: dict[str, float] = {}

    def run(label: str, args: list[str], expect: int | None = None) -> None:
        took[label] = timed(args, root, expect, label)
        if beside is not None and label in AUDITS:
            env = {**ENV, "PYTHONPATH": str(beside)}
            took[label + BESIDE] = timed(args, root, expect, label + BESIDE, env)

    run(
        "register add", governance("register", "add", name, "--owner", "ana@example.com", "--purpose", "p"), 0
    )
    run(
        "register version",
        governance("register", "version", name, "--version", "1.0", "--model", "model.skops"),
        0,
    )
    run("audit (with explanation)", governance("audit", ref, *AUDIT))
    run("audit --no-explain", governance("audit", ref, *AUDIT, "--no-explain"))
    if audits_only:
        return took
    accept = ["--accept-risk", "benchmark"]
    approve = ["register", "approve", ref, "--role", "risk-officer", "--actor", "ravi@example.com", *accept]
    run("register approve", governance(*approve), 0)
    run("register deploy", governance("register", "deploy", ref), 0)
    run("status", governance("status"))
    run("checklist status", governance("checklist", "status", name), 0)
    misspelt = ["--data", CSV, "--target", "risc", "--sensitive", "sex"]
    run("refusal: misspelt column (exit 2)", governance("audit", ref, *misspelt), 2)
    missing = ["--data", "missing.csv", "--target", "risk", "--sensitive", "sex"]
    run("refusal: missing data file (exit 2)", governance("audit", ref, *missing), 2)
    again = governance("register", "version", name, "--version", "2.0", "--model", "model.skops")
    run("refusal: same model file again (exit 2)", again, 2)
    pickle = governance("register", "version", name, "--version", "3.0", "--model", "untrusted.pkl")
    run("refusal: untrusted pickle (exit 4)", pickle, 4)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every command (at least 3)")
    parser.add_argument("--beside", type=Path, help="also run the audits with this checkout's code")
    parser.add_argument(
        "--audits-only", action="store_true", help="leave out the register commands and refusals"
    )
    args = parser.parse_args()
    if args.beside is not None:
        for label in AUDITS:
            TARGETS[label + BESIDE] = TARGETS[label]
    rounds = max(3, args.rounds)
    compiled(REPO, *([args.beside] if args.beside is not None else []))
    load_before = os.getloadavg()
    floors: dict[str, list[float]] = {label: [] for label in FLOORS}
    runs: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        root = make_workspace(Path(folder))
        for index in range(rounds):
            for label, code in FLOORS.items():
                floors[label].append(timed([PYTHON, "-c", code], REPO, 0, f"floor {label}"))
            for label, seconds in one_round(root, index, args.beside, args.audits_only).items():
                runs.setdefault(label, []).append(seconds)
    load_after = os.getloadavg()
    print(
        f"Load average (1, 5, 15 min): before {_load(load_before)}, after {_load(load_after)}; {os.cpu_count()} cores"
    )
    for label, values in floors.items():
        cpu = CPU[f"floor {label}"]
        print(
            f"floor {label:<20} ({FLOORS[label]}): min {min(values):.2f} s, median {statistics.median(values):.2f} s; "
            f"processor min {min(cpu):.2f} s, median {statistics.median(cpu):.2f} s; "
            f"load {statistics.median(LOAD[f'floor {label}']):.1f}"
        )
    print()
    print(
        f"{'command':<42} {'min':>6} {'median':>7} {'target':>7}  {'/ interpreter':>13}  {'/ libraries':>11}"
        f"  {'cpu min':>7} {'cpu':>5}  {'cpu / libraries':>15}  {'load':>4}"
    )
    for label, values in runs.items():
        target, floor = TARGETS[label]
        low, middle = min(values), statistics.median(values)
        used = statistics.median(CPU[label])
        mark = "" if middle <= target else "  over"
        print(
            f"{label:<42} {low:6.2f} {middle:7.2f} {target:7.1f}  "
            f"{middle / statistics.median(floors['interpreter']):13.1f}  "
            f"{middle / statistics.median(floors[floor]):11.2f}  {min(CPU[label]):7.2f} {used:5.2f}  "
            f"{used / statistics.median(CPU[f'floor {floor}']):15.2f}  {statistics.median(LOAD[label]):4.1f}{mark}"
        )
    for label in AUDITS:
        if label + BESIDE in runs:
            ours, theirs = CPU[label], CPU[label + BESIDE]
            print(
                f"{label}: processor time this checkout / {args.beside}: min {min(ours) / min(theirs):.2f}, "
                f"median {statistics.median(ours) / statistics.median(theirs):.2f}; over the scikit-learn floor: "
                f"{statistics.median(ours) / statistics.median(CPU['floor scikit-learn']):.2f} (this checkout), "
                f"{statistics.median(theirs) / statistics.median(CPU['floor scikit-learn']):.2f} (beside)"
            )
    print(
        f"\n{rounds} rounds; ratios are medians over the medians of their floors ({', '.join(FLOORS)}); cpu is the "
        "median processor time (user + system) of the command's process, cpu min its minimum; load the median one-minute "
        "load average when the command started."
    )


def compiled(*checkouts: Path) -> None:
    """Byte-compile the toolkit first, as installing it does: with ``PYTHONDONTWRITEBYTECODE`` set (as on the
    shared machine) every command compiled the toolkit's source again, about 0.1 s of processor time each."""
    for checkout in checkouts:
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(checkout / "governance")], check=True, env=ENV)


def _load(values: tuple[float, float, float]) -> str:
    return ", ".join(f"{value:.1f}" for value in values)


if __name__ == "__main__":
    main()
