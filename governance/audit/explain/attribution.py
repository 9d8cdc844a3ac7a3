"""SHAP values on raw columns, within a time budget.

The explainer follows the model: shap's tree explainer (interventional, against a background sample) for
tree ensembles, its linear explainer for linear models (exact, against the mean of the background), and
its permutation explainer for anything else. Rows are explained in chunks: a small first chunk is timed,
the rate extrapolated, and no chunk is started that would overrun the deadline.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from governance.audit.explain.trees import (
    PARALLEL_MIN_SECONDS,
    CellSnap,
    background_for_budget,
    free_workers,
    run_chunks,
    shap_readable,
    worker_count,
)
from governance.audit.explain.view import (
    ModelView,
    RawEncoder,
    fold,
    is_linear,
    output_function,
)
from governance.errors import ExplainError

if TYPE_CHECKING:
    import pandas as pd

BACKGROUND_ROWS = 100  # shap's own advice for tree and permutation backgrounds
LINEAR_BACKGROUND_ROWS = 10_000  # the linear explainer only needs the mean: take (nearly) all rows
PILOT_ROWS = {"tree": 20, "linear": 1_000, "permutation": 2}
CHUNK_SECONDS = 5.0  # longest planned tree SHAP call


@dataclass
class Attributions:
    """SHAP values of some rows on the raw columns, and how they were obtained."""

    values: np.ndarray  # (rows, features): the primary output (the favourable class, or the prediction)
    per_output: np.ndarray | None  # (rows, features, classes) for multiclass, else None
    base_value: np.ndarray  # (outputs,) expected output over the background
    output: np.ndarray  # (rows, outputs) the model output the values add up to
    rows: np.ndarray  # positions in X of the explained rows, in order
    features: list[str]
    kind: str  # "tree" | "linear" | "permutation"
    explainer_class: str
    output_space: str  # "log_odds" | "probability" | "raw"
    output_label: str
    background_size: int
    background_method: str
    additivity_max_error: float
    seconds: float
    budget_limited: bool
    unfolded: np.ndarray | None = None  # model-column values before folding (tree and linear only)
    notes: list[str] = field(default_factory=list)


def stratified_sample(strata: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Row positions of a sample of ``size`` rows whose strata shares match the whole (systematic)."""
    n = len(strata)
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(n), strata))
    step = n / size
    picks = order[(np.arange(size) * step + rng.random() * step).astype(int)]
    return np.sort(picks)


def background_sample(view: ModelView, X: pd.DataFrame, size: int, seed: int) -> tuple[np.ndarray, str]:
    """A background sample stratified by the model's decision (or by prediction quintile for regressors)."""
    if size >= len(X):
        return np.arange(len(X)), f"all {len(X)} rows"
    # Strata come from the model's decisions; on a large file a random subset of rows is enough for that.
    pool = np.arange(len(X))
    if len(X) > 10 * size:
        pool = np.sort(np.random.default_rng(seed).choice(len(X), size=10 * size, replace=False))
        X = X.iloc[pool]
    if view.task == "regression":
        predictions = view.score(X)
        strata = np.searchsorted(np.quantile(predictions, [0.2, 0.4, 0.6, 0.8]), predictions)
        how = "stratified by prediction quintile"
    else:
        strata = np.unique(view.predict(X).astype(str), return_inverse=True)[1]
        how = "stratified by predicted outcome"
    return pool[stratified_sample(np.asarray(strata), size, seed)], f"a sample of {size} rows {how}"


def _primary(view: ModelView, values: np.ndarray, base: np.ndarray, output: np.ndarray) -> np.ndarray:
    """The favourable class's attributions out of a (rows, features[, outputs]) array."""
    if values.ndim == 2:
        return values
    index = view.positive_index if view.positive_index is not None else 0
    if values.shape[2] == 1:
        index = 0
    return values[:, :, index]


class Engine(Protocol):
    """One configured explainer: ``run(rows) -> (values, base, output)`` on raw rows.

    ``folds``: the values come per model column and are folded back onto the raw columns (tree and linear).
    """

    kind: str  # "tree" | "linear" | "permutation"
    explainer_class: str
    output_space: str
    output_label: str
    folds: bool
    background_rows: int

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def _output_label(view: ModelView, output_space: str) -> str:
    """The explained output in plain words, for a tree or linear explainer."""
    label = repr(str(view.positive_label))
    words = {
        "log_odds": f"log-odds of {label}",
        "probability": f"probability of {label}",
        "raw": "the prediction" if view.task == "regression" else f"decision score of {label}",
    }[output_space]
    if view.task == "multiclass":
        return words.replace(f" of {label}", " of each class")
    return words


def _shap_values(explainer: Any, matrix: np.ndarray, **options: Any) -> np.ndarray:
    """shap's values as one (rows, columns[, outputs]) array, quietly (shap warns about what it was given)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        values = np.asarray(explainer.shap_values(matrix, **options), dtype=float)
    if values.ndim == 3 and values.shape[0] != len(matrix):  # older list-of-arrays layout
        values = np.moveaxis(values, 0, -1)
    return values


def _is_logistic(estimator: Any) -> bool:
    """A logistic regression, whose linear output is the log-odds (scikit-learn is loaded if it is one)."""
    if not type(estimator).__module__.startswith("sklearn."):
        return False
    from sklearn.linear_model import LogisticRegression

    return isinstance(estimator, LogisticRegression)


class LinearAttribution:
    """shap's LinearExplainer with an independent masker (interventional), in shap's own arithmetic, without
    importing shap: importing it loads matplotlib, numba and more (a second or two) for one subtraction and one
    product per class. Each value is ``(x - mean of the background) * coefficient``; a test holds the values
    equal, bit for bit, to shap's."""

    def __init__(self, model: Any, background: np.ndarray) -> None:
        coef, intercept = model.coef_, model.intercept_  # an AttributeError is a refusal, as in shap
        if len(coef.shape) > 1 and coef.shape[0] == 1:  # a binary classifier's single row, as shap reads it
            coef = coef[0]
        self.coef, self.intercept = coef, intercept
        self.mean = np.array(np.mean(background, 0)).flatten()

    def shap_values(self, matrix: np.ndarray) -> np.ndarray:
        """(rows, columns) for one output, (rows, columns, outputs) for several."""
        if len(self.coef.shape) == 1:
            values: np.ndarray = np.array(matrix - self.mean) * self.coef
            return values
        return np.stack(
            [np.array(matrix - self.mean) * self.coef[i] for i in range(self.coef.shape[0])], axis=-1
        )


class _ModelColumnsEngine:
    """Tree and linear: shap explains the model's own columns, and the values are folded back onto the raw ones."""

    folds = True

    def __init__(self, view: ModelView, background: pd.DataFrame) -> None:
        self.view = view
        matrix = view.model_matrix(background)
        self.background_rows = len(matrix)
        self._set_up(matrix)

    def _set_up(self, matrix: np.ndarray) -> None:
        """Build shap's explainer on the background rows (in model columns) and name the explained output."""
        raise NotImplementedError


class LinearEngine(_ModelColumnsEngine):
    """shap's linear explainer (see :class:`LinearAttribution`): exact, against the mean of the background (in
    model columns)."""

    kind = "linear"
    explainer_class = "LinearExplainer"

    def _set_up(self, matrix: np.ndarray) -> None:
        view = self.view
        self.explainer = LinearAttribution(view.final, matrix)
        logistic = _is_logistic(view.final) and view.task != "regression"
        self.output_space = "log_odds" if logistic else "raw"
        self.output_label = _output_label(view, self.output_space)
        self.base = self.model_output(matrix).mean(axis=0)

    def model_output(self, matrix: np.ndarray) -> np.ndarray:
        """The linear part of the model, computed from its coefficients: what the values add up to."""
        final: Any = self.view.final
        coef = np.atleast_2d(np.asarray(final.coef_, dtype=np.float64))
        return matrix @ coef.T + np.asarray(final.intercept_, dtype=np.float64).reshape(1, -1)

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base = np.atleast_1d(np.asarray(self.base, dtype=float))
        matrix = self.view.model_matrix(frame)
        return _shap_values(self.explainer, matrix), base, self.model_output(matrix)


class TreeEngine(_ModelColumnsEngine):
    """shap's interventional tree explainer on cell-numbered rows (see trees.py), against a background sample."""

    kind = "tree"
    explainer_class = "TreeExplainer"

    def _set_up(self, matrix: np.ndarray) -> None:
        import shap

        view, final = self.view, self.view.final
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.explainer = shap.TreeExplainer(
                shap_readable(final),
                data=matrix,
                feature_perturbation="interventional",
                model_output="raw",
            )
        self.snap = CellSnap.from_ensemble(self.explainer.model, final)
        self.output_space = "raw" if view.task == "regression" else "log_odds"
        self._truth = self._model_output_function(final)
        if self._explains_probability(final, matrix):
            self.output_space = "probability"
        self.output_label = _output_label(view, self.output_space)
        self._truth = self._model_output_function(final)  # again: the output space may now be probability
        self._use_background(matrix)

    def _explains_probability(self, final: Any, matrix: np.ndarray) -> bool:
        """Whether shap's raw tree output is already the class probability (a forest averages leaf shares)."""
        probe = self.model_output(matrix[: min(20, len(matrix))])
        proba = getattr(final, "predict_proba", None)
        if proba is None or self.view.task == "regression" or probe.shape[1] != len(self.view.classes):
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return bool(np.allclose(probe, proba(matrix[: len(probe)]), atol=1e-6))

    def _use_background(self, matrix: np.ndarray) -> None:
        """Explain against these background rows (cell-numbered like the rows); the base is the model's mean output.

        shap's own expected_value for scikit-learn forests of limited depth is off by a constant, so the base
        comes from the model itself.
        """
        snapped = self.snap.apply(matrix)
        self.background_matrix = matrix
        self.explainer.data = snapped  # shap's interventional code reads these two attributes per call
        self.explainer.data_missing = np.isnan(snapped)
        self.background_rows = len(matrix)
        self.background_output = self.model_output(matrix)
        self.base = self.background_output.mean(axis=0)

    def shrink(self, size: int) -> None:
        """Keep ``size`` background rows spread evenly over the model's output (its strata stay represented)."""
        if size >= self.background_rows:
            return
        ranked = np.argsort(self.background_output[:, 0], kind="stable")
        picks = ranked[((np.arange(size) + 0.5) * self.background_rows / size).astype(int)]
        self._use_background(self.background_matrix[np.sort(picks)])

    def _model_output_function(self, final: Any) -> Any:
        """The estimator's own output in the explained space, so additivity is checked against the model."""
        module = type(final).__module__
        if module.startswith("xgboost") and hasattr(final, "get_booster"):
            return lambda matrix: final.predict(matrix, output_margin=True)
        if module.startswith("lightgbm") and hasattr(final, "booster_"):
            return lambda matrix: final.predict(matrix, raw_score=True)
        if not module.startswith("sklearn."):
            return None  # a bare booster: shap reads its raw margin itself
        if self.output_space == "probability":
            return final.predict_proba
        if self.view.task == "regression":
            return final.predict
        return getattr(final, "decision_function", None)

    def model_output(self, matrix: np.ndarray) -> np.ndarray:
        """The model's output on model-column rows, in the explained space: what the values add up to."""
        truth = self._truth
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if truth is not None:
                out = np.asarray(truth(matrix), dtype=float)
            else:
                out = np.asarray(self.explainer.model.predict(self.snap.apply(matrix)), dtype=float)
        return out.reshape(len(matrix), -1)

    def prepare(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """One transform of the rows: the model matrix, and the same as cell numbers for shap (see trees.py)."""
        matrix = self.view.model_matrix(frame)
        return matrix, self.snap.apply(matrix)

    def tree_values(self, snapped: np.ndarray) -> np.ndarray:
        """shap's interventional tree SHAP values of cell-numbered rows: (rows, columns[, outputs])."""
        return _shap_values(self.explainer, snapped, check_additivity=False)

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        base = np.atleast_1d(np.asarray(self.base, dtype=float))
        matrix, snapped = self.prepare(frame)
        return self.tree_values(snapped), base, self.model_output(matrix)


class PermutationEngine:
    """Permutation SHAP, computed as shap's PermutationExplainer does, in plain numpy.

    For each of a few random feature orders, and its reverse, the row's values are switched in one feature
    at a time, starting from each background row; a feature's SHAP value is the average change in output
    when it is switched in. Each order adds up exactly (additivity holds by construction). Unlike shap's
    version, which compiles numba code on first use (tens of seconds on a small machine, enough to break a
    short budget), this one needs no compilation and puts many rows into each model call. The orders are
    drawn once from the seed, so results do not depend on how rows were split into chunks.
    """

    kind = "permutation"
    explainer_class = "permutation SHAP (shap's PermutationExplainer algorithm)"
    folds = False
    ORDERS = 10  # forward-and-back pairs per row: shap's "auto" setting of 10 x 2 x features evaluations
    MIN_ORDERS = 2
    MIN_BACKGROUND = 20
    WANTED_ROWS = 50  # under a tight budget, orders and background shrink until this many rows fit
    PROBE_ROWS = 500
    MAX_MODEL_ROWS = 100_000  # rows per model call

    def __init__(
        self,
        view: ModelView,
        background: pd.DataFrame,
        seed: int,
        data: pd.DataFrame,
        budget_seconds: float | None = None,
    ) -> None:
        self.view = view
        self.encoder = RawEncoder(data)
        function, self.output_space, self.output_label = output_function(view)
        encoder = self.encoder

        def on_matrix(matrix: np.ndarray) -> np.ndarray:
            out = np.asarray(function(encoder.decode(matrix)), dtype=float)
            return out.reshape(len(matrix), -1)

        self.function = on_matrix
        rng = np.random.default_rng(seed)
        if len(background) > BACKGROUND_ROWS:  # a linear model's large background, after a fallback
            background = background.iloc[np.sort(rng.permutation(len(background))[:BACKGROUND_ROWS])]
        self.background = self.encoder.encode(background)
        orders = self.ORDERS
        if budget_seconds is not None and len(self.background):
            orders = self._fit_budget(budget_seconds, rng)
        self.orders = [rng.permutation(len(view.features)) for _ in range(orders)]
        self.background_rows = len(self.background)
        self.base = self.function(self.background).mean(axis=0)

    def _fit_budget(self, budget_seconds: float, rng: np.random.Generator) -> int:
        """Time the model on a batch, then halve the orders, then the background, until enough rows fit.

        Returns the number of orders; the background is cut here, and a note says what was given up.
        """
        p = len(self.view.features)
        probe = np.resize(self.background, (self.PROBE_ROWS, p))
        tick = time.perf_counter()
        self.function(probe)
        per_model_row = (time.perf_counter() - tick) / self.PROBE_ROWS
        sampled = len(self.background)
        orders, size = self.ORDERS, sampled

        def rows_that_fit(orders: int, size: int) -> float:
            return budget_seconds / max(1e-12, per_model_row * 2 * orders * (p + 1) * size)

        while rows_that_fit(orders, size) < self.WANTED_ROWS:
            if orders > self.MIN_ORDERS:
                orders = max(self.MIN_ORDERS, orders // 2)
            elif size > self.MIN_BACKGROUND:
                size = max(self.MIN_BACKGROUND, size // 2)
            else:
                break
        if size < sampled:
            self.background = self.background[np.sort(rng.permutation(sampled)[:size])]
        if orders < self.ORDERS or size < sampled:
            self.view.notes.append(
                f"The model is slow to evaluate, so to fit the budget the permutation explainer used "
                f"{orders} feature orders (each forwards and backwards) and a background of {size} rows."
            )
        return orders

    def _pass(self, x: np.ndarray, order: np.ndarray) -> np.ndarray:
        """Switch features in ``order`` from the background to ``x``: (rows, features, outputs) changes."""
        rows, p = x.shape
        b = len(self.background)
        steps = np.zeros((p + 1, p), dtype=bool)
        for s in range(1, p + 1):
            steps[s] = steps[s - 1]
            steps[s, order[s - 1]] = True
        # inputs[s, i, k] = x[i] where the step has switched the feature in, else background row k
        inputs = np.where(
            steps[:, None, None, :], x[None, :, None, :], self.background[None, None, :, :]
        ).reshape(-1, p)
        outputs = self.function(inputs).reshape(p + 1, rows, b, -1).mean(axis=2)
        changes = np.diff(outputs, axis=0)  # (p, rows, outputs): step s switched in order[s]
        result = np.empty((rows, p, changes.shape[2]))
        result[:, order, :] = np.moveaxis(changes, 0, 1)
        return result

    def run(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        data = self.encoder.encode(frame)
        p = data.shape[1]
        per_row = (p + 1) * len(self.background)
        batch = max(1, self.MAX_MODEL_ROWS // per_row)
        parts = []
        for start in range(0, len(data), batch):
            x = data[start : start + batch]
            total = np.zeros((len(x), p, len(self.base)))
            for order in self.orders:
                total += self._pass(x, order) + self._pass(x, order[::-1])
            parts.append(total / (2 * len(self.orders)))
        values = np.concatenate(parts, axis=0)
        if values.shape[2] == 1:
            values = values[:, :, 0]
        return values, np.asarray(self.base, dtype=float), self.function(data)


TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


def looks_like_trees(estimator: Any) -> bool:
    """Worth offering to shap's tree explainer (importing shap alone takes seconds on a small machine)."""
    module = type(estimator).__module__
    return module.startswith(TREE_MODULES) or any(
        hasattr(estimator, name) for name in ("tree_", "estimators_", "get_booster", "booster_")
    )


def _tree_refusals() -> tuple[type[Exception], ...]:
    """What shap's tree explainer raises for a model it cannot read; the permutation explainer is used then."""
    from shap.utils._exceptions import ExplainerError, InvalidModelError

    return (InvalidModelError, ExplainerError, TypeError, ValueError)


def _checked_tree_engine(view: ModelView, background: pd.DataFrame) -> TreeEngine | None:
    """shap's tree explainer, if it reads the model right on a few rows (its values add up to the output).

    Some tree models (for example scikit-learn's HistGradientBoosting) are read wrongly by shap.
    """
    try:
        engine = TreeEngine(view, background)
        values, base, output = engine.run(background.iloc[: min(10, len(background))])
    except _tree_refusals():
        return None
    folded = values.sum(axis=1).reshape(len(output), -1) + base.reshape(1, -1)
    if np.allclose(folded, output.reshape(len(output), -1), atol=1e-4, rtol=1e-4):
        return engine
    view.notes.append(
        f"shap's tree explainer misread {type(view.final).__name__} (its values did not add up), so "
        "the permutation explainer was used."
    )
    return None


def _shap_engine(view: ModelView, background: pd.DataFrame) -> Engine | None:
    """shap's linear or tree explainer where it fits the model; None (with a note where useful) otherwise."""
    if view.final is None:
        return None
    if is_linear(view.final):
        try:
            return LinearEngine(view, background)
        except Exception as exc:
            view.notes.append(f"shap's linear explainer refused the model ({type(exc).__name__}).")
            return None
    if looks_like_trees(view.final):
        return _checked_tree_engine(view, background)
    return None


def make_engine(
    view: ModelView,
    background: pd.DataFrame,
    seed: int,
    data: pd.DataFrame,
    budget_seconds: float | None = None,
) -> Engine:
    """The explainer for this model: tree, linear, else permutation (a failing tree explainer falls back)."""
    engine = _shap_engine(view, background)
    if engine is not None:
        return engine
    try:
        return PermutationEngine(view, background, seed, data, budget_seconds)
    except Exception as exc:
        raise ExplainError(
            f"shap cannot explain {type(view.model).__name__} ({type(exc).__name__}: {exc}); "
            "audit it with {no_explain} or give a scikit-learn-compatible model.",
            fields={"no_explain": "explain=False"},
        ) from exc


@contextmanager
def _shap_failure(view: ModelView) -> Iterator[None]:
    """An explainer failing on the rows becomes an ExplainError naming the model (the audit goes on without it)."""
    try:
        yield
    except Exception as exc:
        raise ExplainError(
            f"shap failed while explaining {type(view.model).__name__} ({type(exc).__name__}: {exc}); "
            "audit it with {no_explain}, or report the model type.",
            fields={"no_explain": "explain=False"},
        ) from exc


def _explain_trees(
    engine: TreeEngine,
    frame: pd.DataFrame,
    *,
    budget_seconds: float | None,
    deadline: float | None,
    workers: int,
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Tree SHAP values of the rows of ``frame`` in order: one transform, one model call, parallel chunks.

    A pilot of a few rows measures the cost per row; when all rows would not fit the time left, the
    background is made smaller first (its cost is linear in its size, down to MIN_BACKGROUND), and only
    then are rows cut.
    """
    notes: list[str] = []
    matrix, snapped = engine.prepare(frame)
    output = engine.model_output(matrix)
    total = len(snapped)
    pilot = min(total, PILOT_ROWS["tree"])
    tick = time.perf_counter()
    parts = [engine.tree_values(snapped[:pilot])]
    per_row = (time.perf_counter() - tick) / max(1, pilot)
    done = pilot
    if deadline is not None and done < total:
        before = engine.background_rows
        size = background_for_budget(
            before, total, per_row, deadline - time.perf_counter(), free_workers(workers)
        )
        if size < before:
            engine.shrink(size)
            per_row *= size / before
            parts = [engine.tree_values(snapped[:pilot])]  # the pilot's rows again, on the new background
            notes.append(
                f"To fit the budget, the tree explainer used a background of {size} of "
                f"the {before} rows sampled (the cost grows with the background); raise explain_budget "
                "for the full background."
            )
    remaining = total - done
    if remaining:
        # Worth forking for: then even one worker keeps shap's progress bar off the terminal.
        pool = remaining * per_row >= PARALLEL_MIN_SECONDS
        use = workers if pool else 1
        chunk = -(-remaining // use)
        if per_row > 0:
            # Short calls: shap prints its own progress bar on a call longer than ten seconds, and a
            # tenth of the budget per chunk lets the deadline be checked often.
            longest = CHUNK_SECONDS if budget_seconds is None else min(CHUNK_SECONDS, 0.1 * budget_seconds)
            chunk = min(chunk, max(1, int(longest / per_row)))
        offset = done
        parts += run_chunks(
            engine.tree_values,
            snapped[done:],
            chunk_rows=chunk,
            workers=use,
            deadline=deadline,
            per_row=per_row,
            progress=None if progress is None else (lambda n: progress(offset + n, total)),
            pool=pool,
        )
    values = np.concatenate(parts, axis=0)
    base = np.atleast_1d(np.asarray(engine.base, dtype=float))
    return values, base, output[: len(values)], notes


def _next_chunk(
    remaining: int,
    *,
    pilot: int | None,
    per_row: float,
    deadline: float | None,
    budget_seconds: float | None,
) -> int:
    """How many rows to explain next: the pilot first, then what fits the time left, a tenth of the budget at
    a time so that the deadline is checked often."""
    if pilot is not None:
        return min(remaining, pilot)
    if deadline is None:
        return remaining
    left = deadline - time.perf_counter()
    affordable = int(left / per_row) if per_row > 0 else remaining
    chunk = max(1, int(0.1 * float(budget_seconds or 0) / per_row)) if per_row > 0 else remaining
    return min(remaining, affordable, chunk)


def _explain_in_chunks(
    view: ModelView,
    engine: Engine,
    frame: pd.DataFrame,
    *,
    budget_seconds: float | None,
    deadline: float | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of the rows of ``frame`` in order, a timed pilot first, until all are done or time is up."""
    chunks_values: list[np.ndarray] = []
    chunks_output: list[np.ndarray] = []
    base = np.zeros(1)
    done = 0
    per_row = 0.0
    while done < len(frame):
        first = done == 0
        size = _next_chunk(
            len(frame) - done,
            pilot=PILOT_ROWS[engine.kind] if first else None,
            per_row=per_row,
            deadline=deadline,
            budget_seconds=budget_seconds,
        )
        if size < 1:
            break
        tick = time.perf_counter()
        with _shap_failure(view):
            values, base, output = engine.run(frame.iloc[done : done + size])
        observed = (time.perf_counter() - tick) / size
        per_row = observed if first else max(per_row, observed) * 0.5 + observed * 0.5
        done += size
        chunks_values.append(values)
        chunks_output.append(output)
        if progress is not None:
            progress(done, len(frame))
    return np.concatenate(chunks_values, axis=0), base, np.concatenate(chunks_output, axis=0)


def compute_attributions(
    view: ModelView,
    X: pd.DataFrame,
    *,
    rows: Sequence[int] | np.ndarray,
    background: pd.DataFrame,
    background_method: str,
    budget_seconds: float | None,
    seed: int = 0,
    engine: Engine | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Attributions:
    """Explain ``X.iloc[rows]`` in order until all are done or the budget would be overrun.

    Tree models run on ``workers`` processes (default: every core this process may use).
    """
    started = time.perf_counter()
    deadline = None if budget_seconds is None else started + budget_seconds
    engine = engine or make_engine(view, background, seed, X, budget_seconds)
    order = np.asarray(rows, dtype=int)
    if not isinstance(engine, TreeEngine):
        raw, base, output = _explain_in_chunks(
            view, engine, X.iloc[order], budget_seconds=budget_seconds, deadline=deadline, progress=progress
        )
        return _assemble(view, engine, raw, base, output, order, background_method, started)
    sampled = engine.background_rows
    with _shap_failure(view):
        raw, base, output, notes = _explain_trees(
            engine,
            X.iloc[order],
            budget_seconds=budget_seconds,
            deadline=deadline,
            workers=worker_count() if workers is None else workers,
            progress=progress,
        )
    view.notes.extend(notes)
    if engine.background_rows < sampled:
        background_method = f"{background_method}, cut to {engine.background_rows} rows to fit the budget"
    return _assemble(view, engine, raw, base, output, order, background_method, started)


def _assemble(
    view: ModelView,
    engine: Engine,
    raw: np.ndarray,
    base: np.ndarray,
    output: np.ndarray,
    order: np.ndarray,
    background_method: str,
    started: float,
) -> Attributions:
    """Fold, check additivity, and orient the values of the ``len(raw)`` first rows of ``order``."""
    done = len(raw)
    unfolded = raw if engine.folds else None
    values_all = fold(raw, view.groups) if engine.folds else raw
    sums = values_all.sum(axis=1).reshape(len(values_all), -1) + base.reshape(1, -1)
    if sums.shape != output.shape and output.shape[1] == 1:
        output = np.repeat(output, sums.shape[1], axis=1)
    error = float(np.max(np.abs(sums - output))) if len(output) else 0.0
    primary = _primary(view, values_all, base, output)
    if view.task == "binary" and values_all.ndim == 2 and engine.folds and view.positive_index == 0:
        # A single-output binary tree or linear model explains the second class; flip it to the first.
        primary = -primary
        values_all = -values_all
        base = -base
        output = -output
    base_primary = base if base.shape[0] == 1 else base[[view.positive_index or 0]]
    return Attributions(
        values=primary,
        per_output=values_all if values_all.ndim == 3 and view.task == "multiclass" else None,
        base_value=base_primary,
        output=output,
        rows=order[:done],
        features=list(view.features),
        kind=engine.kind,
        explainer_class=engine.explainer_class,
        output_space=engine.output_space,
        output_label=engine.output_label,
        background_size=engine.background_rows,
        background_method=background_method,
        additivity_max_error=error,
        seconds=time.perf_counter() - started,
        budget_limited=done < len(order),
        unfolded=unfolded,
        notes=list(view.notes),
    )
