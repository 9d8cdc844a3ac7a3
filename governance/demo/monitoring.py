"""The demo's year after go-live: simulated daily credit decisions of the deployed version, and its monitoring.

Applicants are drawn from the holdout (with replacement), 150 a day for a year from the day after go-live, and
decided by the deployed model itself. From the eighth month on, a third of the women it would approve are refused
(a drift the audit never saw); labels of the last two months have not arrived yet. `governance monitor` on daily
windows flags the drift, and `governance status` lists the version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOG_NAME = "credit-decisions-after-go-live.csv"
GO_LIVE = datetime(2026, 11, 3, tzinfo=UTC)
PER_DAY = 150
DRIFT_MONTH = 8  # the month of the log (1 = the first) from which the drift starts
DRIFT_SHARE = 1 / 3  # of the women the model would approve, refused from then on
UNLABELLED_DAYS = 60


def make_decision_log(
    folder: Path, model: Any, holdout: Any, features: list[str], *, seed: int = 2027
) -> Path:
    """A year of daily decisions by ``model`` on applicants drawn from ``holdout``; written to ``folder``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    days = 365
    picks = rng.integers(0, len(holdout), size=days * PER_DAY)
    log = holdout.iloc[picks].reset_index(drop=True).drop(columns=["applicant_id"])
    day = np.repeat(np.arange(days), PER_DAY)
    start = pd.Timestamp(GO_LIVE.replace(tzinfo=None))
    moments = (
        start
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(rng.integers(8 * 3600, 18 * 3600, len(log)), unit="s")
    )
    log.insert(0, "decided_at", moments.strftime("%Y-%m-%dT%H:%M:%SZ"))
    decision = np.asarray(model.predict(log[features])).astype(int)
    drift_from = start + pd.DateOffset(months=DRIFT_MONTH - 1)
    drifted = (moments >= drift_from) & (log["sex"] == "female").to_numpy() & (decision == 1)
    decision = np.where(drifted & (rng.random(len(log)) < DRIFT_SHARE), 0, decision)
    log.insert(1, "decision", decision)
    late = day >= days - UNLABELLED_DAYS
    log["risk"] = log["risk"].astype("Int64").mask(late)
    path = folder / LOG_NAME
    log.to_csv(path, index=False)
    return path


def monitor_demo(workspace: Any, log: Path, *, actor: str, version: str) -> Any:
    """Monitor the deployed version on the log in daily windows (recorded in the register, a year after go-live)."""
    from governance.monitor import MonitorRequest, monitor
    from governance.provenance import set_clock

    moment = datetime(2027, 11, 3, 9, 0, tzinfo=UTC)
    set_clock(lambda: moment)
    request = MonitorRequest(
        reference=f"credit-risk@{version}",
        data=str(log),
        time_column="decided_at",
        window="1D",
        predictions="decision",
        target="risk",
        actor=actor,
    )
    return monitor(request, workspace=workspace).result
