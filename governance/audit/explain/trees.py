"""Tree SHAP made exact and fast: values and thresholds put on the trees' own cells, a background sized to
the budget, and rows explained in parallel chunks.

shap's tree code compares a value with a split threshold in 32-bit floats, while scikit-learn's
HistGradientBoosting and LightGBM compare in 64-bit floats, and scikit-learn's other trees compare a 32-bit
value with a 64-bit threshold. A value within one 32-bit step of a threshold then goes one way in shap and
the other way in the model, and the SHAP values no longer add up to the model's output. A tree model's
output only depends on which side of each threshold a value lies. So, per feature, the thresholds of all
trees are numbered in order (0, 1, 2, ...), each threshold in shap's copy of the trees is replaced by its
number, and each value by the number of thresholds below it, decided with the model's own comparison. Small
whole numbers compare the same in every precision, so shap routes every row exactly as the model does, and
the model's output and its SHAP values are unchanged.

shap's C code holds Python's lock, so rows are explained in chunks by forked worker processes, one per core.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import numpy as np

FLOAT64_MODULES = ("sklearn.ensemble._hist_gradient_boosting", "lightgbm")  # compare 64-bit values
MIN_BACKGROUND = 20  # below this the interventional average gets noisy; rows are cut instead
PARALLEL_MIN_SECONDS = 1.0  # less work than this is not worth forking workers for
SAFETY = 0.8  # plan to use this share of the time left


@dataclass
class CellSnap:
    """Per feature, the sorted thresholds of its numeric splits over all trees."""

    cuts: dict[int, np.ndarray]
    float32_input: bool

    @classmethod
    def from_ensemble(cls, ensemble: Any, estimator: Any) -> CellSnap:
        """Read the thresholds from shap's copy of the trees, and renumber them there (see the module)."""
        left = np.asarray(ensemble.children_left)
        features = np.asarray(ensemble.features)
        thresholds = np.asarray(ensemble.thresholds, dtype=np.float64)
        types = np.asarray(getattr(ensemble, "threshold_types", np.zeros_like(features)))
        numeric = (left >= 0) & (types == 0)
        categorical = set(np.unique(features[(left >= 0) & (types != 0)]).tolist())
        cuts: dict[int, np.ndarray] = {}
        renumbered = thresholds.copy()
        for feature in np.unique(features[numeric]).tolist():
            if feature in categorical or feature < 0:
                continue  # categorical splits are left to shap (the additivity check catches a misread)
            mask = numeric & (features == feature)
            if not np.all(np.isfinite(thresholds[mask])):
                continue
            sorted_cuts = np.unique(thresholds[mask])
            cuts[int(feature)] = sorted_cuts
            renumbered[mask] = np.searchsorted(sorted_cuts, thresholds[mask])
        ensemble.thresholds = renumbered
        float32_input = not type(estimator).__module__.startswith(FLOAT64_MODULES)
        return cls(cuts=cuts, float32_input=float32_input)

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        """Each value replaced by the number of its feature's thresholds below it (missing values stay)."""
        out = np.array(matrix, dtype=np.float64, copy=True)
        for feature, cuts in self.cuts.items():
            if feature >= out.shape[1]:
                continue
            column = out[:, feature]
            seen = column.astype(np.float32).astype(np.float64) if self.float32_input else column
            present = ~np.isnan(column)
            # The model goes left at cut i when value <= cuts[i], that is when fewer than i + 1 cuts are
            # below the value: the cell number is compared with i.
            out[present, feature] = np.searchsorted(cuts, seen[present], side="left")
        return out


def _is_gradient_boosting_classifier(estimator: Any) -> bool:
    """scikit-learn's GradientBoostingClassifier (scikit-learn is only imported for one of its estimators)."""
    if not type(estimator).__module__.startswith("sklearn."):
        return False
    from sklearn.ensemble import GradientBoostingClassifier

    return isinstance(estimator, GradientBoostingClassifier)


def shap_readable(estimator: Any) -> Any:
    """What to hand shap's tree explainer: the estimator, or for a multiclass GradientBoostingClassifier (which
    shap refuses) the same trees in shap's dictionary format, one output per class."""
    estimators: Any = getattr(estimator, "estimators_", None)
    if not (
        _is_gradient_boosting_classifier(estimator)
        and getattr(estimators, "ndim", 0) == 2
        and estimators.shape[1] > 1
    ):
        return estimator
    classes = estimators.shape[1]
    trees = []
    for stage in estimators:
        for k, regressor in enumerate(stage):
            tree = regressor.tree_
            values = np.zeros((tree.node_count, classes))
            values[:, k] = tree.value[:, 0, 0] * estimator.learning_rate
            trees.append(
                {
                    "children_left": tree.children_left,
                    "children_right": tree.children_right,
                    "children_default": tree.children_left,
                    "features": tree.feature,
                    "thresholds": tree.threshold.astype(np.float64),
                    "values": values,
                    "node_sample_weight": tree.weighted_n_node_samples.astype(np.float64),
                }
            )
    zero = np.zeros((1, estimator.n_features_in_), dtype=np.float32)
    offset = np.asarray(estimator._raw_predict_init(zero), dtype=np.float64)[0]
    return {"trees": trees, "base_offset": offset, "input_dtype": np.float32, "tree_output": "raw_value"}


def can_fork() -> bool:
    """Worker processes share the explainer by forking (Linux); elsewhere rows are explained in-process."""
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


def worker_count() -> int:
    """Cores this process may use, when workers can be forked; else one."""
    if not can_fork():
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def free_workers(workers: int) -> int:
    """How many of the workers can expect a core of their own: on a machine other jobs keep busy, planning
    for every core would shrink the background and then still cut rows."""
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)  # the load average counts this process too
    except (AttributeError, OSError):  # pragma: no cover - no load average on this system
        return workers
    return max(1, min(workers, round(workers - others)))


def background_for_budget(size: int, rows: int, per_row: float, seconds_left: float, workers: int) -> int:
    """The background size at which ``rows`` rows fit the time left (cost is linear in the background)."""
    if rows <= 0 or per_row <= 0:
        return size
    needed = rows * per_row / max(1, workers)
    if needed <= SAFETY * seconds_left:
        return size
    fitted = int(size * SAFETY * max(0.0, seconds_left) / needed)
    return max(min(size, MIN_BACKGROUND), min(size, fitted))


_SHARED: dict[str, Any] = {}


def _quiet_worker() -> None:
    """shap's C code prints a progress bar on calls longer than ten seconds; a worker prints nothing.

    SIGTERM (the pool's own way to stop its workers, when the command is stopped) ends a worker on the spot: the
    command line's handler, inherited by the fork, would raise only once shap's C code returned from its chunk."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)


def _chunk(start: int, stop: int) -> np.ndarray:
    """Run in a forked worker: the values of rows ``start:stop`` of the shared matrix."""
    function = _SHARED["function"]
    return np.asarray(function(_SHARED["matrix"][start:stop]))


@dataclass
class _Pace:
    """The time per row, first from the pilot, then as achieved (a loaded machine is slower than the pilot said),
    and whether a chunk still fits before the deadline."""

    per_row: float
    _: KW_ONLY
    workers: int
    chunk_rows: int
    chunks: int
    deadline: float | None
    started: float = field(init=False, default_factory=time.perf_counter)
    rows: int = field(init=False, default=0)

    def finished(self, rows: int) -> None:
        """Learn the rate actually achieved, once a full wave of chunks is done (then it is meaningful)."""
        self.rows += rows
        seen = (time.perf_counter() - self.started) * min(self.workers, self.chunks) / self.rows
        if self.rows >= self.workers * self.chunk_rows:
            self.per_row = seen

    def fits(self, rows: int, in_flight: int) -> bool:
        """Whether ``rows`` more rows, queued behind ``in_flight`` chunks, finish before the deadline."""
        if self.deadline is None:
            return True
        waves = (in_flight + self.workers) // self.workers  # chunks ahead of this one share the workers
        return time.perf_counter() + waves * rows * self.per_row <= self.deadline


@dataclass
class _ChunkRun:
    """The chunks of one :func:`run_chunks` call, run in this process or on forked workers."""

    function: Callable[[np.ndarray], np.ndarray]
    matrix: np.ndarray
    bounds: list[tuple[int, int]]
    pace: _Pace
    progress: Callable[[int], None] | None

    def here(self) -> list[np.ndarray]:
        """The chunks one after the other in this process, while they fit."""
        parts: list[np.ndarray] = []
        for start, stop in self.bounds:
            if not self.pace.fits(stop - start, 0):
                break
            parts.append(np.asarray(self.function(self.matrix[start:stop])))
            self.pace.finished(stop - start)
            if self.progress is not None:
                self.progress(stop)
        return parts

    def forked(self) -> list[np.ndarray]:
        """The chunks on ``pace.workers`` forked processes, at most one waiting per worker, results in order."""
        workers, bounds, pace = self.pace.workers, self.bounds, self.pace
        _SHARED.update(function=self.function, matrix=self.matrix)
        context = multiprocessing.get_context("fork")
        done: list[np.ndarray] = []
        try:
            with context.Pool(workers, initializer=_quiet_worker) as processes:
                pending: list[Any] = []
                next_chunk = 0
                while next_chunk < len(bounds) or pending:
                    while next_chunk < len(bounds) and len(pending) < workers:
                        start, stop = bounds[next_chunk]
                        if not pace.fits(stop - start, len(pending)):
                            next_chunk = len(bounds)
                            break
                        pending.append(processes.apply_async(_chunk, (start, stop)))
                        next_chunk += 1
                    if not pending:
                        break
                    done.append(pending.pop(0).get())
                    pace.finished(len(done[-1]))
                    if self.progress is not None:
                        self.progress(sum(len(part) for part in done))
        finally:
            _SHARED.clear()
        return done


def run_chunks(
    function: Callable[[np.ndarray], np.ndarray],
    matrix: np.ndarray,
    *,
    chunk_rows: int,
    workers: int,
    deadline: float | None,
    per_row: float,
    progress: Callable[[int], None] | None = None,
    pool: bool = True,
) -> list[np.ndarray]:
    """Values of the rows of ``matrix`` in order, chunk by chunk on ``workers`` processes, until the deadline.

    Without ``pool`` (or where workers cannot be forked), the chunks run in this process.

    A chunk is only started if it is expected to finish before the deadline; the result is the longest run
    of finished chunks from the first row on.
    """
    starts = list(range(0, len(matrix), max(1, chunk_rows)))
    bounds = [(start, min(len(matrix), start + max(1, chunk_rows))) for start in starts]
    pace = _Pace(per_row, workers=workers, chunk_rows=chunk_rows, chunks=len(bounds), deadline=deadline)
    chunks = _ChunkRun(function, matrix, bounds, pace, progress)
    return chunks.forked() if pool and can_fork() else chunks.here()
