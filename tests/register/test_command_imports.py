"""The quick commands stay quick: what each imports, counted instead of timed (issue 13, point 3).

Loading scikit-learn through skops takes seconds on a busy machine; pandas, matplotlib and shap most of a second
each; Alembic a third. Each command is run as a user would run it, in its own process, and must not import
what it does not need; a refusal must come before the slow work.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from governance.paths import demo_data
from governance.register import Register
from governance.scaffold import init_workspace
from governance.workspace import require_workspace

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "demo" / "models" / "credit-risk-1.1.0.skops"
HEAVY = (
    "pandas",
    "sklearn",
    "skops",
    "scipy",
    "matplotlib",
    "shap",
    "alembic",
    "pyarrow",
    "confusable_homoglyphs",  # the look-alike table is read from confusables.json, not rebuilt from this data
    "jsonschema",  # shipped checklists are checked by the toolkit's tests, not validated again on every command
)
RUN = (
    "import json, sys\n"
    "from governance.cli.main import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "    code = 0\n"
    "except SystemExit as exit:\n"
    "    code = exit.code\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & set(json.loads(WATCHED)))\n"
    "print(json.dumps({'code': code, 'heavy': heavy}))\n"
)


def run(workspace: Path, *args: str, watched: tuple[str, ...] = HEAVY) -> tuple[int, list[str], str]:
    """Run ``governance ARGS`` in its own process; its exit code, which ``watched`` packages it imported, stderr."""
    completed = subprocess.run(
        [sys.executable, "-c", f"WATCHED = {json.dumps(json.dumps(watched))}\n" + RUN, *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        env={
            "GOVERNANCE_ACTOR": "ds@example.com",
            "PATH": "/usr/bin:/bin",
            "HOME": str(workspace),
            "PYTHONPATH": str(REPO),
        },
        check=False,
    )
    found = json.loads(completed.stdout.strip().splitlines()[-1])
    return found["code"], found["heavy"], completed.stderr


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with credit@1.0 registered (the demo's skops model) and a 1,000-row CSV."""
    root = tmp_path / "ws"
    init_workspace(root)
    shutil.copy(MODEL, root / "model.skops")
    lines = ["risk,sex,age_band,duration"] + [
        f"{i % 2},{'fm'[i % 3 == 0]},a{i % 4},{i % 40}" for i in range(1000)
    ]
    (root / "holdout.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Register.for_workspace(require_workspace(root)) as register:
        register.add_model("credit", owner="o@example.com", purpose="p", actor="ds@example.com")
        register.add_version("credit", "1.0", artifact_path=root / "model.skops", actor="ds@example.com")
    return root


@pytest.mark.parametrize(
    "args",
    [
        ("register", "add", "other", "--owner", "o@example.com", "--purpose", "p"),
        ("register", "show", "credit"),
        ("register", "history", "credit"),
        ("register", "verify"),
        ("register", "approve", "credit@1.0", "--role", "risk-officer", "--actor", "ro@example.com"),
        ("register", "deploy", "credit@1.0"),
        ("status",),
        ("checklist", "status", "credit"),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_register_commands_import_nothing_heavy(workspace: Path, args: tuple[str, ...]) -> None:
    code, heavy, stderr = run(workspace, *args)
    assert code in (0, 1), stderr  # approve and deploy are refused by their guards here (exit 1)
    assert heavy == [], (args, heavy)


BUILT = (
    "import json, sys\n"
    "from governance.cli.main import main\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "from governance.results.common import Frozen\n"
    "def below(kind):\n"
    "    for sub in kind.__subclasses__():\n"
    "        yield sub\n"
    "        yield from below(sub)\n"
    "models = list(below(Frozen))\n"
    "print(json.dumps([len(models), sorted(m.__name__ for m in models if m.__pydantic_complete__)]))\n"
)


@pytest.mark.parametrize(
    "args",
    [
        ("register", "add", "other", "--owner", "o@example.com", "--purpose", "p"),
        ("register", "deploy", "credit@1.0"),
        ("status",),
    ],
    ids=lambda args: " ".join(args[:2]),
)
def test_register_commands_build_only_the_records_they_use(workspace: Path, args: tuple[str, ...]) -> None:
    """pydantic builds a model's validator when the class is defined unless told to wait: every register command
    built all of the register's and results' records (about 0.06 s of processor time) to use one or two."""
    completed = subprocess.run(
        [sys.executable, "-c", BUILT, *args],
        cwd=workspace,
        capture_output=True,
        text=True,
        env={"GOVERNANCE_ACTOR": "ds@example.com", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        check=False,
    )
    defined, built = json.loads(completed.stdout.strip().splitlines()[-1])
    assert defined >= 15, completed.stderr
    assert len(built) <= 6, built  # status: the report, its items, their steps, the models and versions read


def test_registering_a_skops_model_does_not_draw_or_explain(workspace: Path) -> None:
    shutil.copy(MODEL.with_name("credit-risk-1.0.0.skops"), workspace / "model-2.skops")
    code, heavy, stderr = run(
        workspace, "register", "version", "credit", "--version", "2.0", "--model", "model-2.skops"
    )
    assert code == 0, stderr
    assert not {"matplotlib", "shap", "alembic"} & set(heavy), heavy


def test_registering_a_skops_model_reads_its_types_without_scikit_learn(workspace: Path) -> None:
    """Today's code imported skops.io to list the file's types, and with it all of scikit-learn: 1.5-2 s of
    processor time for a file that is only hashed and checked, never loaded."""
    shutil.copy(MODEL.with_name("credit-risk-1.0.0.skops"), workspace / "model-2.skops")
    code, heavy, stderr = run(
        workspace,
        "register",
        "version",
        "credit",
        "--version",
        "2.0",
        "--model",
        "model-2.skops",
        watched=(*HEAVY, "numpy"),
    )
    assert code == 0, stderr
    assert heavy == [], heavy


def test_an_audit_loads_skops_without_listing_every_estimator(workspace: Path) -> None:
    """skops lists its trusted names on import by importing every module of scikit-learn (pytest among them, from
    scikit-learn's testing helpers) and searching all loaded modules for scipy's ufuncs: a third of the import.
    The audit reads those lists from the file the toolkit ships instead."""
    shutil.copy(demo_data(), workspace / "credit.csv")
    code, heavy, stderr = run(
        workspace,
        "audit",
        "credit@1.0",
        "--data",
        "credit.csv",
        "--target",
        "risk",
        "--sensitive",
        "sex",
        "--no-explain",
        "--no-figures",
        watched=("_pytest", "pytest", "sklearn"),
    )
    assert code in (0, 1, 3), stderr  # passed, failed or inconclusive: the audit ran
    assert heavy == ["sklearn"], heavy


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ("register", "version", "credit", "--version", "3.0", "--model", "model.skops"),
            "already registered",
        ),
        (
            ("audit", "credit@1.0", "--data", "missing.csv", "--target", "risk", "--sensitive", "sex"),
            "does not exist",
        ),
        (
            ("audit", "credit@1.0", "--data", "holdout.csv", "--target", "risc", "--sensitive", "sex"),
            "no column",
        ),
        (
            ("audit", "credit@1.0", "--data", "holdout.csv", "--target", "risk", "--sensitive", "gender"),
            "no column",
        ),
    ],
    ids=["same file again", "missing data", "misspelt target", "misspelt sensitive"],
)
def test_refusals_come_before_the_model_is_loaded(workspace: Path, args: tuple[str, ...], says: str) -> None:
    """Today's code loaded the model (skops imports all of scikit-learn) and then refused: 7-8 s under load."""
    code, heavy, stderr = run(workspace, *args)
    assert code == 2 and says in stderr, stderr
    assert not {"sklearn", "skops", "matplotlib", "shap"} & set(heavy), heavy


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "credit@1.0", "--data", "missing.csv", "--target", "risk", "--sensitive", "sex"),
        ("audit", "credit@1.0", "--data", "holdout.csv", "--target", "risc", "--sensitive", "sex"),
        ("audit", "credit@1.0", "--data", "holdout.csv", "--target", "risk", "--sensitive", "gender"),
        (
            "audit",
            "credit@1.0",
            "--data",
            "holdout.csv",
            "--target",
            "risk",
            "--sensitive",
            "sex",
            "--weights",
            "w",
        ),
    ],
    ids=["missing data", "misspelt target", "misspelt sensitive", "misspelt weights"],
)
def test_audit_refusals_come_before_the_register_and_the_audit_libraries(
    workspace: Path, args: tuple[str, ...]
) -> None:
    """A missing file or a misspelt column is read from the file's first line; today's code first opened the
    register and imported the audit's libraries (numpy, SQLAlchemy, pydantic): 0.7 s of processor time, not 0.1."""
    code, heavy, stderr = run(workspace, *args, watched=(*HEAVY, "numpy", "sqlalchemy", "pydantic"))
    assert code == 2 and ("does not exist" in stderr or "no column" in stderr), stderr
    assert heavy == [], heavy
