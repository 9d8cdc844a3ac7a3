"""Helpers for the monitoring tests: a workspace with a register, decision data, and audits run by the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner, Result

from governance.cli.main import cli
from governance.register import Register


def decisions(
    n: int, *, rate_b: float = 0.5, rate_a: float = 0.5, seed: int = 0, groups: tuple[str, ...] = ("A", "B")
) -> pd.DataFrame:
    """Decisions of a binary model: group B is approved at ``rate_b``, the others at ``rate_a``; labels agree 80 %."""
    rng = np.random.default_rng(seed)
    group = rng.choice(list(groups), size=n)
    rate = np.where(group == "B", rate_b, rate_a)
    pred = (rng.random(n) < rate).astype(int)
    label = np.where(rng.random(n) < 0.8, pred, 1 - pred)
    return pd.DataFrame(
        {"id": np.arange(n), "group": group, "income": rng.normal(50, 10, n), "pred": pred, "label": label}
    )


def make_workspace(root: Path, register_url: str, versions: tuple[str, ...] = ("1", "2")) -> Path:
    """A workspace with model m registered in the given versions (each its own file)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "models").mkdir(exist_ok=True)
    with Register(register_url, workspace_root=root) as register:
        register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        for version in versions:
            artefact = root / "models" / f"m-{version}.bin"
            artefact.write_bytes(f"model {version}".encode())
            register.add_version("m", version, artifact_path=artefact, actor="ds@example.com")
    return root


def run(root: Path, register_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--workspace", str(root), "--register-url", register_url])


def audit(
    root: Path, register_url: str, version: str, frame: pd.DataFrame, *extra: str, name: str = "data"
) -> str:
    """Audit m@version on saved predictions of ``frame`` (recorded in the register); the audit id."""
    path = root / f"{name}-{version}.csv"
    frame.to_csv(path, index=False)
    result = run(
        root,
        register_url,
        "audit",
        f"m@{version}",
        "--data",
        str(path),
        "--predictions",
        "pred",
        "--target",
        "label",
        "--sensitive",
        "group",
        "--no-explain",
        "--n-boot",
        "0",
        "--policy",
        "four-fifths",
        "--no-figures",
        "--json",
        str(root / f"{name}-{version}.json"),
        "--quiet",
        *extra,
    )
    assert result.exit_code in (0, 1, 3), result.output
    import json

    return str(json.loads((root / f"{name}-{version}.json").read_text())["audit_id"])


def decision_log(
    path: Path,
    *,
    days: int = 180,
    per_day: int = 60,
    rate_b: float = 0.45,
    drift_from: int | None = None,
    drifted_rate_b: float = 0.25,
    unlabelled_after: int | None = None,
    seed: int = 7,
) -> Path:
    """A log of daily decisions from 2026-01-01; group B's approval rate drops from day ``drift_from``."""
    rng = np.random.default_rng(seed)
    frames = []
    for day in range(days):
        rate = drifted_rate_b if drift_from is not None and day >= drift_from else rate_b
        frame = decisions(per_day, rate_a=0.5, rate_b=rate, seed=seed * 10_000 + day)
        moment = pd.Timestamp("2026-01-01") + pd.Timedelta(days=day)
        seconds = rng.integers(0, 86_400, len(frame))
        frame["ts"] = [
            (moment + pd.Timedelta(seconds=int(s))).strftime("%Y-%m-%dT%H:%M:%SZ") for s in seconds
        ]
        if unlabelled_after is not None and day >= unlabelled_after:
            frame["label"] = np.nan
        frames.append(frame)
    log = pd.concat(frames, ignore_index=True)
    log.to_csv(path, index=False)
    return path
