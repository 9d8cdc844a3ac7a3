"""What the explainer sees of a model: its task, its classes, its output, and how raw columns reach it.

shap's tree and linear explainers want the final estimator and a numeric matrix, while people think in raw
columns. So a Pipeline is split into its preprocessing and its final estimator, and each model column is
traced back to the one raw column it came from (by changing one raw column at a time and watching which
model columns move). One-hot columns are then folded (summed) back into their source column. When a
model column depends on several raw columns, or the final estimator is neither a tree ensemble nor a
linear model, the whole model is explained on the raw columns with the permutation explainer instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from governance.errors import ExplainError

if TYPE_CHECKING:
    import pandas as pd

Task = Literal["binary", "multiclass", "regression"]

LINEAR_MODULES = ("sklearn.linear_model", "sklearn.svm")
_TRACE_ROWS = 256


def describe(estimator: Any) -> str:
    """A short name such as ``Pipeline(ColumnTransformer, LogisticRegression)``."""
    steps = getattr(estimator, "steps", None)
    if steps:
        return f"{type(estimator).__name__}({', '.join(type(step).__name__ for _, step in steps)})"
    return type(estimator).__name__


@dataclass
class ModelView:
    """A model seen by the explainer: the task, the favourable class, and the route to the final estimator."""

    model: Any
    task: Task
    classes: list[Any]
    positive_index: int | None  # index into classes of the favourable outcome
    features: list[str]
    final: Any | None = None  # the estimator shap's tree or linear explainer gets (None: permutation)
    preprocess: Any | None = None  # the Pipeline steps before ``final`` (None: the raw matrix is numeric)
    groups: list[list[int]] = field(default_factory=list)  # raw column -> model columns
    n_model_columns: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def positive_label(self) -> Any:
        return None if self.positive_index is None else self.classes[self.positive_index]

    def model_matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The numeric matrix the final estimator takes."""
        return to_model_matrix(self.preprocess, frame)

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability of the favourable class (classifiers) or the prediction (regressors), one per row."""
        if self.task == "regression":
            return np.asarray(self.model.predict(frame), dtype=float).reshape(-1)
        if hasattr(self.model, "predict_proba"):
            return np.asarray(self.model.predict_proba(frame), dtype=float)[:, self.positive_index]
        decision = np.asarray(self.model.decision_function(frame), dtype=float)
        if decision.ndim == 1:
            return decision if self.positive_index == 1 else -decision
        return decision[:, self.positive_index]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.predict(frame))


def to_model_matrix(preprocess: Any | None, frame: pd.DataFrame) -> np.ndarray:
    """Apply the preprocessing and return a dense float matrix (raises ValueError/TypeError if impossible)."""
    matrix: Any = frame if preprocess is None else preprocess.transform(frame)
    if hasattr(matrix, "toarray"):
        matrix = matrix.toarray()
    return np.asarray(matrix, dtype=float)


def _task_and_classes(model: Any, X: pd.DataFrame) -> tuple[Task, list[Any]]:
    classes = getattr(model, "classes_", None)
    if classes is not None:
        labels = list(np.asarray(classes).tolist())
        if len(labels) < 2:
            raise ExplainError("The model knows only one class, so there is no decision to explain.")
        if not (hasattr(model, "predict_proba") or hasattr(model, "decision_function")):
            raise ExplainError(
                f"The classifier {describe(model)} gives neither probabilities nor scores, so shap cannot "
                "explain it; audit it with {no_explain}, or give a model with predict_proba.",
                fields={"no_explain": "explain=False"},
            )
        return ("binary" if len(labels) == 2 else "multiclass"), labels
    if not hasattr(model, "predict"):
        raise ExplainError(
            f"{describe(model)} is not a fitted scikit-learn-style model (it has no predict method), so shap "
            "cannot explain it; check the model file, or audit with {no_explain}.",
            fields={"no_explain": "explain=False"},
        )
    try:
        sample = np.asarray(model.predict(X.iloc[:5]))
    except Exception as exc:
        raise ExplainError(
            f"{describe(model)} failed to predict on the data ({type(exc).__name__}: {exc}); check that the "
            "feature columns match what the model was trained on."
        ) from exc
    if not np.issubdtype(sample.dtype, np.number):
        raise ExplainError(
            f"{describe(model)} predicts labels but has no classes_, probabilities or scores, so shap cannot "
            "explain it; give a scikit-learn classifier with predict_proba, or audit with {no_explain}.",
            fields={"no_explain": "explain=False"},
        )
    return "regression", []


def _positive_index(task: Task, classes: Sequence[Any], positive_label: Any) -> int | None:
    if task == "regression":
        return None
    if positive_label is None:
        return len(classes) - 1  # scikit-learn's convention: the last class is the "positive" one
    for index, label in enumerate(classes):
        if label == positive_label or str(label) == str(positive_label):
            return index
    raise ExplainError(
        f"The favourable label {positive_label!r} is not one of the model's classes "
        f"({', '.join(repr(c) for c in classes)}); pass one of them."
    )


def is_linear(estimator: Any) -> bool:
    """A linear model shap's linear explainer handles: coefficients and an intercept."""
    module = type(estimator).__module__
    return (
        module.startswith(LINEAR_MODULES)
        and hasattr(estimator, "coef_")
        and hasattr(estimator, "intercept_")
        and np.ndim(estimator.coef_) in (1, 2)
    )


def trace_columns(preprocess: Any, X: pd.DataFrame, seed: int) -> list[list[int]] | None:
    """For each raw column, the model columns it feeds; ``None`` when some model column mixes raw columns.

    All the changed copies go through the preprocessing in one call (it transforms row by row), which on a
    small model is most of the time taken to set the explanation up.
    """
    import pandas as pd

    sample = X.iloc[: min(len(X), _TRACE_ROWS)]
    if len(sample) < 2:
        return None
    rng = np.random.default_rng(seed)
    copies = [sample]
    for column in X.columns:
        changed = sample.copy()
        values = sample[column].to_numpy()
        order = rng.permutation(len(sample))
        # A shuffled copy, then rolled by one as well, so that every row gets another row's value.
        changed[column] = np.roll(values[order], 1)[np.argsort(order)]
        copies.append(changed)
    stacked = to_model_matrix(preprocess, pd.concat(copies, ignore_index=True))
    base = stacked[: len(sample)]
    owner = np.full(base.shape[1], -1)
    groups: list[list[int]] = []
    for j in range(len(X.columns)):
        moved = stacked[(j + 1) * len(sample) : (j + 2) * len(sample)]
        differs = ~np.isclose(moved, base, equal_nan=True).all(axis=0)
        columns = np.flatnonzero(differs)
        if np.any(owner[columns] >= 0):
            return None
        owner[columns] = j
        groups.append(columns.tolist())
    return groups


def view_model(model: Any, X: pd.DataFrame, *, positive_label: Any = None, seed: int = 0) -> ModelView:
    """Work out how to explain ``model`` on the raw columns of ``X`` (see the module docstring)."""
    if len(X) == 0:
        raise ExplainError("There are no rows to explain; give data with at least one row.")
    task, classes = _task_and_classes(model, X)
    positive = _positive_index(task, classes, positive_label)
    features = [str(column) for column in X.columns]
    view = ModelView(model=model, task=task, classes=classes, positive_index=positive, features=features)
    steps = getattr(model, "steps", None)
    preprocess = model[:-1] if steps and len(steps) > 1 else None
    final = steps[-1][1] if steps else model
    try:
        matrix = to_model_matrix(preprocess, X.iloc[: min(len(X), 50)])
    except (ValueError, TypeError):
        view.notes.append("The model takes non-numeric columns directly, so it was explained as a whole.")
        return view
    groups: list[list[int]] | None
    if preprocess is None:
        if matrix.shape[1] != len(features):
            return view
        groups = [[j] for j in range(len(features))]
    else:
        try:
            groups = trace_columns(preprocess, X, seed)
        except (ValueError, TypeError):
            groups = None
        if groups is None:
            view.notes.append(
                "Some model inputs combine several raw columns, so the whole pipeline was explained on the raw "
                "columns with the permutation explainer."
            )
            return view
    view.final = final
    view.preprocess = preprocess
    view.groups = groups
    view.n_model_columns = matrix.shape[1]
    return view


def fold(values: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """Sum model-column attributions into raw columns; axis 1 is the model-column axis."""
    shape = list(values.shape)
    shape[1] = len(groups)
    folded = np.zeros(shape, dtype=float)
    for j, columns in enumerate(groups):
        if columns:
            folded[:, j, ...] = values[:, list(columns), ...].sum(axis=1)
    return folded


class RawEncoder:
    """Turns raw columns (text, categories, numbers) into floats for shap's maskers, and back again."""

    def __init__(self, X: pd.DataFrame) -> None:
        import pandas as pd

        self.columns = list(X.columns)
        self.dtypes = X.dtypes
        self.levels: dict[str, np.ndarray] = {}
        for column in self.columns:
            series = X[column]
            if not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)):
                _, uniques = pd.factorize(series, use_na_sentinel=False)
                self.levels[str(column)] = np.asarray(uniques, dtype=object)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        import pandas as pd

        out = np.empty((len(frame), len(self.columns)), dtype=float)
        for j, column in enumerate(self.columns):
            levels = self.levels.get(str(column))
            if levels is None:
                out[:, j] = frame[column].to_numpy(dtype=float, na_value=np.nan)
            else:
                index = pd.Index(levels)
                out[:, j] = index.get_indexer(frame[column].to_numpy(dtype=object))
        return out

    def decode(self, matrix: np.ndarray) -> pd.DataFrame:
        import pandas as pd

        data: dict[Any, Any] = {}
        for j, column in enumerate(self.columns):
            levels = self.levels.get(str(column))
            if levels is None:
                values = matrix[:, j]
                dtype = self.dtypes[column]
                if np.issubdtype(dtype, np.integer) and not np.isnan(values).any():
                    data[column] = values.astype(dtype)
                else:
                    data[column] = values
            else:
                data[column] = pd.Series(levels[matrix[:, j].astype(int)], dtype=object).astype(
                    self.dtypes[column]
                )
        return pd.DataFrame(data, columns=self.columns)


def output_function(view: ModelView) -> tuple[Callable[[pd.DataFrame], np.ndarray], str, str]:
    """The model output the permutation explainer explains: (function, output space, plain label)."""
    model = view.model
    if view.task == "regression":
        return (
            (lambda frame: np.asarray(model.predict(frame), dtype=float).reshape(-1)),
            "raw",
            "the prediction",
        )
    label = repr(str(view.positive_label))
    if hasattr(model, "predict_proba"):
        if view.task == "binary":
            index = view.positive_index
            return (
                (lambda frame: np.asarray(model.predict_proba(frame), dtype=float)[:, index]),
                "probability",
                f"probability of {label}",
            )
        return (
            (lambda frame: np.asarray(model.predict_proba(frame), dtype=float)),
            "probability",
            "probability",
        )

    def decision(frame: pd.DataFrame) -> np.ndarray:
        scores = np.asarray(model.decision_function(frame), dtype=float)
        if scores.ndim == 1 and view.positive_index == 0:
            return -scores
        return scores

    return decision, "raw", f"decision score of {label}" if view.task == "binary" else "decision score"
