"""Checking and converting the caller's columns: one clear sentence for every bad input.

Everything here turns lists, arrays and pandas Series into plain numpy arrays once, so that the rest of
the package only does arithmetic. pandas is imported inside functions (the CLI imports this package lazily,
but the rule is cheap to keep).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from governance.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN = "Unknown"
"""Name of the explicit group holding rows whose sensitive value is missing."""

TaskArg = Literal["auto", "binary", "multiclass", "regression"]


def as_array(values: Any, *, name: str) -> np.ndarray:
    """A 1-D numpy view of a list, ndarray or Series (pandas extension arrays become numpy)."""
    if values is None:
        raise InputError(f"{name} is missing; pass one value per row.")
    if hasattr(values, "to_numpy"):
        try:
            array = values.to_numpy()
        except (TypeError, ValueError):
            array = np.asarray(values, dtype=object)
    else:
        array = np.asarray(values)
    if array.ndim != 1:
        raise InputError(f"{name} must be one column of values (got an array of shape {array.shape}).")
    return np.asarray(array)


def _missing(array: np.ndarray) -> np.ndarray:
    """True where a value is missing (NaN, None, pd.NA, NaT)."""
    if array.dtype.kind in "biu":
        return np.zeros(array.shape[0], dtype=bool)
    if array.dtype.kind in "fc":
        return np.asarray(np.isnan(array))
    import pandas as pd

    return np.asarray(pd.isna(array), dtype=bool)


def check_length(array: np.ndarray, n_rows: int, *, name: str) -> None:
    if array.shape[0] != n_rows:
        raise InputError(
            f"{name} has {array.shape[0]} values but the sensitive columns have {n_rows} rows; "
            "pass one value per row, in the same order."
        )


def as_numeric(values: Any, *, name: str, n_rows: int) -> np.ndarray:
    """A float array without NaN or infinity (scores, weights, regression values)."""
    array = as_array(values, name=name)
    check_length(array, n_rows, name=name)
    try:
        numbers = array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"{name} must hold numbers only; convert or drop the other values.") from error
    bad = ~np.isfinite(numbers)
    if bad.any():
        raise InputError(
            f"{name} has {int(bad.sum())} missing or infinite values; drop those rows or fill them first."
        )
    return numbers


def as_weights(values: Any, *, n_rows: int) -> np.ndarray | None:
    """Sample weights: finite, non-negative, not all zero."""
    if values is None:
        return None
    weights = as_numeric(values, name="sample_weight", n_rows=n_rows)
    if (weights < 0).any():
        raise InputError("sample_weight has negative values; weights must be zero or more.")
    if not weights.sum() > 0:
        raise InputError("sample_weight sums to zero; give at least one row a positive weight.")
    positive = weights[weights > 0]
    if positive.max() > _WEIGHT_LIMIT or positive.min() < 1 / _WEIGHT_LIMIT:
        raise InputError(
            f"sample_weight runs from {positive.min():.3g} to {positive.max():.3g}, too far from 1 to compute with "
            "(squared weights would overflow or vanish); rescale them, for example divide by their mean: only "
            "their ratios matter."
        )
    return weights


_WEIGHT_LIMIT = 1e100  # squared, still far inside the range of a float


@dataclass(frozen=True)
class Labels:
    """A label column coded as integers into ``classes`` (shared by predictions and true labels)."""

    codes: np.ndarray  # int64, one per row
    classes: list[Any]  # the original values, in code order


def _unique_values(array: np.ndarray, *, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes, uniques) of a label column; raises on missing values. Fast path for small integers."""
    if _missing(array).any():
        raise InputError(
            f"{name} has {int(_missing(array).sum())} missing values; drop those rows or fill them first."
        )
    if array.dtype.kind == "b":
        return array.astype(np.int64), np.array([False, True])
    if array.dtype.kind in "iu" and array.shape[0]:
        low, high = int(array.min()), int(array.max())
        if high - low < 1_000_000:
            shifted = array - low if low else array
            present = np.flatnonzero(np.bincount(shifted, minlength=high - low + 1))
            if present.shape[0] == high - low + 1 and low == 0:  # codes 0, 1, ... already: no lookup
                return array.astype(np.int64), present
            lookup = np.full(high - low + 1, -1, dtype=np.int64)
            lookup[present] = np.arange(present.shape[0])
            return lookup[shifted], present + low
    import pandas as pd

    codes, uniques = pd.factorize(array, sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques)


def _is_number(value: Any) -> bool:
    return isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating))


def _uniques_cached(
    array: np.ndarray, name: str, cache: dict[str, tuple[np.ndarray, np.ndarray]] | None
) -> tuple[np.ndarray, np.ndarray]:
    """``_unique_values`` once per column and call (task detection and coding both need it)."""
    if cache is None:
        return _unique_values(array, name=name)
    if name not in cache:
        cache[name] = _unique_values(array, name=name)
    return cache[name]


LIBRARY_NOUNS = ("the predictions (y_pred)", "the labels (y_true)")
"""How messages name the two label columns when the caller gave no column names."""


def column_nouns(*, predictions: str | None, target: str | None) -> tuple[str, str]:
    """How messages name the predictions and the labels of an audit: by column, or as the model's."""
    return (
        f"the predictions in column '{predictions}'" if predictions else "the model's predictions",
        f"the labels in the target column '{target}'" if target else LIBRARY_NOUNS[1],
    )


def shown_values(values: Any, limit: int = 5) -> str:
    """A few distinct values, sorted (numbers before text), whole numbers without '.0'."""
    names = {_label_key(value): _level_name(value) for value in values}
    ordered = [names[key] for key in sorted(names, key=lambda k: (k[0], k[1]))]
    return ", ".join(ordered[:limit]) + (", ..." if len(ordered) > limit else "")


def _kind(values: list[Any]) -> str:
    numbers = sum(1 for value in values if _is_number(value))
    if numbers == len(values):
        return "numbers"
    return "text" if numbers == 0 else "a mix of text and numbers"


def check_labels(
    pred_values: Any,
    true_values: Any | None,
    *,
    nouns: tuple[str, str] = LIBRARY_NOUNS,
) -> tuple[Literal["binary", "multiclass", "regression"], list[Any]]:
    """The one check of an audit's label values, on their distinct values: every intake path calls it.

    Refuses non-finite values, labels coded unlike the predictions (text against numbers), and, beyond a
    binary pair, a value in one column that the other never takes. Returns the task and the sorted classes
    (none for regression). ``nouns`` name the predictions and the labels in messages.
    """
    pred = list(pred_values)
    true = None if true_values is None else list(true_values)
    for noun, values in ((nouns[0], pred), (nouns[1], true or [])):
        bad = [v for v in values if _is_number(v) and not np.isfinite(float(v))]
        if bad:
            raise InputError(
                f"{noun[0].upper()}{noun[1:]} include non-finite values ({shown_values(bad)}); "
                "drop those rows or replace them with real values."
            )
    if true and pred and _kind(true) != _kind(pred):
        raise InputError(
            f"{nouns[1][0].upper()}{nouns[1][1:]} are {_kind(true)} ({shown_values(true)}) but {nouns[0]} are "
            f"{_kind(pred)} ({shown_values(pred)}); code both the same way, for example 0/1 in both."
        )
    values = [*pred, *(true or [])]
    if any(_is_number(v) and not float(v).is_integer() for v in values):
        return "regression", []
    pred_keys = {_label_key(v) for v in pred}
    true_keys = {_label_key(v) for v in true or []}
    union = pred_keys | true_keys
    if true is not None and len(union) > 2 and pred_keys != true_keys:
        stray = [v for v in values if _label_key(v) in union - (pred_keys & true_keys)]
        verb = "appears" if len(union - (pred_keys & true_keys)) == 1 else "appear"
        raise InputError(
            f"{nouns[1][0].upper()}{nouns[1][1:]} ({shown_values(true)}) and {nouns[0]} ({shown_values(pred)}) "
            f"are not the same classes: {shown_values(stray)} {verb} in only one of them; fix or drop the rows "
            "with that value, or code both columns the same way."
        )
    first: dict[Any, Any] = {}
    for value in values:
        first.setdefault(_label_key(value), value)
    classes = [first[key] for key in sorted(first, key=lambda k: (k[0], k[1]))]
    return ("binary" if len(union) <= 2 else "multiclass"), classes


def check_label_columns(
    y_pred: np.ndarray,
    y_true: np.ndarray | None,
    cache: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    *,
    nouns: tuple[str, str] = LIBRARY_NOUNS,
) -> tuple[Literal["binary", "multiclass", "regression"], list[Any]]:
    """``check_labels`` on whole columns in memory (missing values are refused first)."""
    distinct: list[list[Any]] = []
    for name, array in (("y_pred", y_pred), ("y_true", y_true)):
        if array is None:
            continue
        if array.dtype.kind == "f" and not _missing(array).any() and bool(np.isfinite(array).all()):
            fractional = array != np.floor(array)
            if fractional.any():
                # Continuous numbers: one is enough to tell regression, without factorising them all.
                distinct.append([float(array[np.argmax(fractional)])])
                continue
        _, uniques = _uniques_cached(array, name, cache)
        distinct.append(uniques.tolist())
    return check_labels(distinct[0], distinct[1] if y_true is not None else None, nouns=nouns)


def detect_task(
    y_pred: np.ndarray,
    y_true: np.ndarray | None,
    cache: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> Literal["binary", "multiclass", "regression"]:
    """``auto``: non-integer numbers mean regression; otherwise two values binary, more multiclass.

    The values are checked by ``check_labels`` on the way, as on every other path.
    """
    return check_label_columns(y_pred, y_true, cache)[0]


def _label_key(value: Any) -> Any:
    """Make 1, 1.0 and True the same label, and keep strings apart from numbers."""
    if _is_number(value):
        return ("n", float(value))
    return ("s", str(value))


def _text_key(positive_label: Any, keys: dict[Any, Any]) -> Any:
    """The label's key; a text (a command line's --positive-label) names a label it spells, or the number it reads
    as ('1' and '1.000' name 1)."""
    key = _label_key(positive_label)
    if key in keys or not isinstance(positive_label, str):
        return key
    spelt = [k for k, value in keys.items() if str(value) == positive_label]
    if spelt:
        return spelt[0]
    try:
        number = ("n", float(positive_label))
    except ValueError:
        return key
    return number if number in keys else key


def code_labels(
    y_pred: np.ndarray,
    y_true: np.ndarray | None,
    *,
    task: Literal["binary", "multiclass"],
    positive_label: Any,
    cache: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[Labels, Labels | None, int]:
    """Code predictions and labels into one shared class list; return (pred, true, positive index).

    Binary: the class list is [negative, positive]. Without ``positive_label`` the labels must be 0/1 or
    False/True (1 and True are positive); otherwise the user must say which value counts as selected.
    """
    pred_codes, pred_uniques = _uniques_cached(y_pred, "y_pred", cache)
    if y_true is not None:
        true_codes, true_uniques = _uniques_cached(y_true, "y_true", cache)
    else:
        true_codes, true_uniques = None, np.array([], dtype=object)
    keys: dict[Any, Any] = {}
    for value in [*pred_uniques.tolist(), *true_uniques.tolist()]:
        keys.setdefault(_label_key(value), value)
    if task == "binary":
        if len(keys) > 2:
            shown = ", ".join(sorted(str(v) for v in keys.values())[:5])
            raise InputError(
                f"Binary metrics need two classes but the predictions and labels hold {len(keys)} ({shown}); "
                "map them to 0/1 or choose task='multiclass'."
            )
        if positive_label is None:
            if not all(k[0] == "n" and k[1] in (0.0, 1.0) for k in keys):
                shown = ", ".join(sorted(str(v) for v in keys.values()))
                raise InputError(
                    f"The labels are {shown}, not 0/1; say which one counts as selected with positive_label."
                )
            positive_key: Any = ("n", 1.0)
            negative_key: Any = ("n", 0.0)
            positive_value: Any = keys.get(positive_key, 1)
            negative_value: Any = keys.get(negative_key, 0)
        else:
            positive_key = _text_key(positive_label, keys)
            if keys and positive_key not in keys and len(keys) == 2:
                shown = ", ".join(sorted(str(v) for v in keys.values()))
                raise InputError(
                    f"positive_label {positive_label!r} is not one of the labels ({shown}); "
                    "pass one of those values."
                )
            positive_value = keys.get(positive_key, positive_label)
            others = [k for k in keys if k != positive_key]
            negative_key = others[0] if others else ("s", f"not {positive_label}")
            negative_value = keys.get(negative_key, f"not {positive_label}")
        class_keys = [negative_key, positive_key]
        classes = [negative_value, positive_value]
    else:
        class_keys = sorted(keys, key=lambda k: (k[0], k[1]))
        classes = [keys[k] for k in class_keys]
    index = {key: i for i, key in enumerate(class_keys)}

    def recode(codes: np.ndarray, uniques: np.ndarray) -> np.ndarray:
        mapping = np.array([index[_label_key(v)] for v in uniques.tolist()], dtype=np.int64)
        if not mapping.shape[0] or np.array_equal(mapping, np.arange(mapping.shape[0])):
            return codes  # already in class order (0/1 labels): no pass over the rows
        return np.asarray(mapping[codes])

    pred = Labels(recode(pred_codes, pred_uniques), classes)
    true = None if true_codes is None else Labels(recode(true_codes, true_uniques), classes)
    return pred, true, (1 if task == "binary" else -1)


def _level_name(value: Any) -> str:
    """A group's printed name; whole floats (1.0, from a column with missing values) print as 1."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class SensitiveCodes:
    """Each sensitive column coded into sorted level names, the Unknown level (if any) last."""

    columns: list[str]
    codes: list[np.ndarray]  # int64 per column, into levels
    levels: list[list[str]]
    has_unknown: list[bool]


def code_sensitive(sensitive: pd.DataFrame | Any, *, allow_all_missing: bool = False) -> SensitiveCodes:
    """Factorise every sensitive column; missing values become the explicit ``Unknown`` level.

    ``allow_all_missing`` is for one batch of a larger file, where a column may be missing throughout.
    """
    columns, factorized = _factorized(sensitive)
    all_codes: list[np.ndarray] = []
    all_levels: list[list[str]] = []
    all_unknown: list[bool] = []
    for name, (codes, uniques) in zip(columns, factorized, strict=True):
        names = [_level_name(v) for v in list(uniques)]
        if not names and not allow_all_missing:
            raise InputError(
                f"The sensitive column {name!r} is entirely missing; fill it in or leave it out of the audit."
            )
        # Order by name and merge values that print the same (1 and "1" are one group to a reader).
        unknown_name = UNKNOWN if UNKNOWN not in names else f"{UNKNOWN} (missing)"
        ordered = sorted(set(names))
        position = {level: i for i, level in enumerate(ordered)}
        mapping = np.array([position[level] for level in names] or [0], dtype=np.int64)
        missing = codes < 0
        has_unknown = bool(missing.any())
        if has_unknown:
            remapped = np.where(missing, len(ordered), mapping[np.maximum(codes, 0)])
            ordered = [*ordered, unknown_name]
        else:
            remapped = mapping[codes]
        all_codes.append(remapped)
        all_levels.append(ordered)
        all_unknown.append(has_unknown)
    return SensitiveCodes(columns, all_codes, all_levels, all_unknown)


def _factorized(sensitive: pd.DataFrame | Any) -> tuple[list[str], list[tuple[np.ndarray, list[Any]]]]:
    """Each sensitive column's codes (-1 where missing) and distinct values, in order of appearance.

    A mapping of name -> values (the few grouped rows an engine returns) is factorised here, without pandas;
    a pandas DataFrame (or Series) by ``pd.factorize``. Both find the same distinct values.
    """
    if isinstance(sensitive, Mapping):
        if not sensitive:
            raise InputError("sensitive has no columns; name at least one sensitive attribute.")
        factorized = [_factorize_values(list(values)) for values in sensitive.values()]
        if factorized[0][0].shape[0] == 0:
            raise InputError("There are no rows to audit; pass data with at least one row.")
        return [str(c) for c in sensitive], factorized
    import pandas as pd

    if isinstance(sensitive, pd.Series):
        sensitive = sensitive.to_frame(name=str(sensitive.name) if sensitive.name is not None else "group")
    if not isinstance(sensitive, pd.DataFrame):
        raise InputError("sensitive must be a pandas DataFrame with one column per sensitive attribute.")
    if sensitive.shape[1] == 0:
        raise InputError("sensitive has no columns; name at least one sensitive attribute.")
    if sensitive.shape[0] == 0:
        raise InputError("There are no rows to audit; pass data with at least one row.")
    columns = [str(c) for c in sensitive.columns]
    if len(set(columns)) != len(columns):
        raise InputError("sensitive has two columns with the same name; give each attribute a unique name.")
    factorized = []
    for column in sensitive.columns:
        codes, uniques = pd.factorize(sensitive[column], sort=False, use_na_sentinel=True)
        factorized.append((np.asarray(codes, dtype=np.int64), list(uniques)))
    return columns, factorized


def _factorize_values(values: list[Any]) -> tuple[np.ndarray, list[Any]]:
    """``pd.factorize`` of a short list of Python values (missing: None and NaN)."""
    from governance.intake.grouped import is_missing

    position: dict[Any, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        codes[i] = -1 if is_missing(value) else position.setdefault(value, len(position))
    return codes, list(position)


def prepare_columns(
    *, sensitive: Any, y_pred: Any, y_true: Any, sample_weight: Any, allow_all_missing: bool = False
) -> tuple[SensitiveCodes, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The coded sensitive columns and the per-row columns, each checked to hold one value per row."""
    codes = code_sensitive(sensitive, allow_all_missing=allow_all_missing)
    n_rows = codes.codes[0].shape[0]
    pred = as_array(y_pred, name="y_pred")
    check_length(pred, n_rows, name="y_pred")
    true = None
    if y_true is not None:
        true = as_array(y_true, name="y_true")
        check_length(true, n_rows, name="y_true")
    return codes, pred, true, as_weights(sample_weight, n_rows=n_rows)
