"""Reading the audit data: CSV or Parquet, with sensitive columns in the same file or joined from another.

Demographics often live in an HR or CRM extract rather than the feature table, so ``--sensitive-data FILE
--id COL`` joins them by id for the audit only. Rows without a match, and missing sensitive values, go to an
explicit ``Unknown`` group: counted and reported, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from governance.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

TABLE_SUFFIXES = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}


def read_table(
    path: str | Path, *, columns: Sequence[str] | None = None, field: str = "data"
) -> pd.DataFrame:
    """Read a CSV or Parquet file, turning every failure into one sentence; ``field`` is the argument that named
    the file (and the columns)."""
    import pandas as pd

    table_path = Path(path)
    if not table_path.is_file():
        raise missing_file_error(table_path, field)
    kind = TABLE_SUFFIXES.get(table_path.suffix.lower())
    if kind is None:
        raise InputError(
            f"{table_path.name} is neither CSV nor Parquet; convert it to .csv or .parquet first."
        )
    try:
        refuse_duplicate_columns(_header(table_path, kind), table_path.name)
        if kind == "CSV":
            frame = pd.read_csv(table_path, usecols=list(columns) if columns else None)
        else:
            frame = pd.read_parquet(table_path, columns=list(columns) if columns else None)
    except ValueError as exc:
        if (columns and "not in list" in str(exc).lower()) or "usecols" in str(exc).lower():
            header = list(read_table(table_path, field=field).columns)
            missing = [name for name in columns or [] if name not in header]
            raise missing_column_error(
                missing[0] if missing else str(exc), header, table_path.name, field
            ) from exc
        raise InputError(
            f"{table_path.name} could not be read as {kind} ({exc}); check that the file is not damaged."
        ) from exc
    except InputError:
        raise
    except Exception as exc:
        raise InputError(
            f"{table_path.name} could not be read as {kind} ({type(exc).__name__}); check that the file is not damaged."
        ) from exc
    if len(frame) == 0:
        raise InputError(f"{table_path.name} has no rows; an audit needs data.")
    return frame


def missing_file_error(path: Path, field: str) -> InputError:
    """The one sentence for a data file that is not there, naming the argument that gave it."""
    return InputError(
        f"The file {path} given with {{{field}}} does not exist; check the path.", fields=[field]
    )


def check_file(path: Path, field: str = "data") -> None:
    """The checks ``read_table`` makes before reading: the file exists, and no column name is repeated.

    For a file DuckDB reads next: the names come without pandas or pyarrow (their imports cost more than the
    check)."""
    if not path.is_file():
        raise missing_file_error(path, field)
    kind = TABLE_SUFFIXES.get(path.suffix.lower(), "CSV")
    try:
        names = _parquet_names(path) if kind == "Parquet" else _csv_names(path)
    except Exception as exc:
        raise InputError(
            f"{path.name} could not be read as {kind} ({type(exc).__name__}); check that the file is not damaged."
        ) from exc
    refuse_duplicate_columns(names, path.name)


def check_columns_early(
    path: str | Path,
    *,
    target: str | None,
    sensitive: Sequence[str],
    id_column: str | None = None,
    weights: str | None = None,
) -> None:
    """Refuse a missing data file or a misspelt column from the file's first line, before the slow work (loading
    the model can take seconds) instead of after it. Only what is certain is refused here: anything unusual is
    left to :func:`load_audit_data`, which words it the same way."""
    import csv

    table_path = Path(path)
    if not table_path.is_file():
        raise missing_file_error(table_path, "data")
    if TABLE_SUFFIXES.get(table_path.suffix.lower()) != "CSV":
        return
    try:
        with table_path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return
    named = [(name, "sensitive") for name in sensitive] + [
        (name, named_by)
        for name, named_by in ((id_column, "id_column"), (target, "target"), (weights, "weights"))
        if name
    ]
    if not header or "" in header or len(set(header)) != len(header):
        return  # pandas names empty and repeated columns its own way: let it read them
    for name, named_by in named:
        if name not in header:
            raise missing_column_error(name, header, table_path.name, named_by)


def _header(path: Path, kind: str) -> list[str]:
    """The column names exactly as the file gives them (pandas would rename a repeated CSV column ``x.1``)."""
    if kind == "CSV":
        import pandas as pd

        first = pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False)
        return [str(name) for name in first.iloc[0]] if len(first) else []
    import pyarrow.parquet as pq

    return [str(name) for name in pq.read_schema(path).names]


def _csv_names(path: Path) -> list[str]:
    """The first non-blank line's names, as pandas reads them (quotes, a byte-order mark), without pandas."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as handle:
        return next((row for row in csv.reader(handle) if row), [])


def _parquet_names(path: Path) -> list[str]:
    """The top-level column names of a Parquet file, from its footer through DuckDB (which reads the file next):
    the same names as pyarrow's schema, without importing pyarrow."""
    from governance.intake.sql_source import duckdb_client

    quoted = str(path).replace("'", "''")
    sql = f"SELECT name, num_children FROM parquet_schema('{quoted}')"
    elements = duckdb_client().connect().execute(sql).fetchall()

    def after(i: int) -> int:  # the index after element i and everything nested in it
        end = i + 1
        for _ in range(elements[i][1] or 0):
            end = after(end)
        return end

    names, i = [], 1
    for _ in range(elements[0][1] or 0):
        names.append(str(elements[i][0]))
        i = after(i)
    return names


def refuse_duplicate_columns(names: Sequence[str], source: str) -> None:
    """Two columns with one name: whichever is read, the other is silently ignored, so neither is."""
    seen: set[str] = set()
    for name in names:
        if name in seen and name.strip():
            raise InputError(
                f"{source} has the column '{name}' twice; rename or delete one of them, so that it is clear which "
                "one the audit reads."
            )
        seen.add(name)


def missing_column_error(name: str, available: Sequence[str], source: str, field: str) -> InputError:
    """The one sentence for a column that is not there, naming the argument (``field``) that named it."""
    import difflib

    close = difflib.get_close_matches(name, list(available), n=1)
    hint = (
        f"did you mean '{close[0]}'?" if close else f"the columns are: {', '.join(map(str, available[:12]))}"
    )
    if len(available) > 12 and not close:
        hint += ", ..."
    return InputError(
        f"There is no column '{name}' in {source} (named by {{{field}}}); {hint}", fields=[field]
    )


def require_columns(frame: pd.DataFrame, names: Sequence[str], *, source: str, field: str) -> None:
    """Raise a one-sentence error for the first column that is not in ``frame``, naming the argument (``field``)
    that named it."""
    available = [str(column) for column in frame.columns]
    for name in names:
        if name not in frame.columns:
            raise missing_column_error(name, available, source, field)


def missing_labels_error(column: str, count: int, *, role: Literal["target", "predictions"]) -> InputError:
    """The one sentence for missing labels or predictions, whichever way the file is read."""
    if role == "target":
        return InputError(
            f"The target column '{column}' has {count} missing label(s); drop or fill those rows, "
            "or leave out {target} to audit selection rates only.",
            fields=["target"],
        )
    return InputError(
        f"The predictions column '{column}' has {count} missing value(s); every row needs a prediction."
    )


FeatureSource = Literal["features", "model", "data"]
"""Where a model's input columns came from: the ``features`` given, the model's own record, or the rest of the
data."""


def recorded_inputs(estimator: Any) -> list[str] | None:
    """The columns a scikit-learn model was fitted on (``feature_names_in_``, or its Pipeline's first step's).

    ``None`` when the model was fitted on an unnamed array and so records no names.
    """
    first_step = [step for _, step in (getattr(estimator, "steps", None) or [])[:1]]
    for candidate in (estimator, *first_step):
        names = getattr(
            candidate, "feature_names_in_", None
        )  # a Pipeline without names raises AttributeError
        if names is not None:
            return [str(name) for name in names]
    return None


@dataclass(frozen=True)
class InputColumns:
    """The columns to feed a model, in its order, and where that choice came from."""

    names: list[str]
    source: FeatureSource


def choose_input_columns(
    available: Sequence[str],
    *,
    model: Any,
    features: Sequence[str] | None,
    sensitive: Sequence[str],
    excluded: Collection[str],
    source: str,
) -> InputColumns:
    """The one rule for a model's inputs, shared by ``audit`` and ``explain``.

    ``--features`` wins; otherwise the columns the model records (a sensitive one included: the model reads
    it); otherwise every column that is neither sensitive nor in ``excluded`` (target, id, weights,
    predictions). A column the model needs but ``available`` lacks is named in the error.
    """
    columns = [str(column) for column in available]
    recorded = None if features else recorded_inputs(model)
    if features:
        names, chosen = [str(name) for name in features], "features"
        for name in names:
            if name not in columns:
                raise missing_column_error(name, columns, source, "features")
    elif recorded is not None:
        names, chosen = recorded, "model"
        missing = [name for name in names if name not in columns]
        if missing:
            shown = ", ".join(repr(name) for name in missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise InputError(
                f"The model was trained on the column(s) {shown}, which {source} lacks; add them to the data, "
                "or name the model's input columns with {features}.",
                fields=["features"],
            )
    else:
        skip = {*sensitive, *excluded}
        return InputColumns([name for name in columns if name not in skip], "data")
    clash = [name for name in names if name in set(excluded) and name not in set(sensitive)]
    if clash:
        fix = (
            "leave it out of {features}."
            if chosen == "features"
            else "the model was trained on it, so check that the right model and columns were given."
        )
        raise InputError(
            f"'{clash[0]}' cannot be both a model input and the target, id, weights or predictions column; {fix}",
            fields=["features"],
        )
    return InputColumns(names, chosen)  # type: ignore[arg-type]


@dataclass
class AuditData:
    """The columns of an audit, aligned row by row."""

    frame: pd.DataFrame  # the data as read (and joined), all columns
    path: Path
    sha256: str
    target: str | None
    sensitive: list[str]
    features: list[str]
    id_column: str | None = None
    weights_column: str | None = None
    sensitive_data_path: Path | None = None
    sensitive_data_sha256: str | None = None
    rows_without_demographics: int = 0
    notes: list[str] = field(default_factory=list)
    features_source: FeatureSource = "data"

    @property
    def X(self) -> pd.DataFrame:
        return self.frame[self.features]

    @property
    def sensitive_frame(self) -> pd.DataFrame:
        return self.frame[self.sensitive]


def _one_row_per_id(table: pd.DataFrame, id_column: str, name: str) -> None:
    """Each person once: repeated rows would count the same people again and narrow every interval."""
    duplicated = table[id_column].duplicated()
    if duplicated.any():
        example = table.loc[duplicated, id_column].iloc[0]
        raise InputError(
            f"{name} has more than one row for id {example} ({int(duplicated.sum())} repeated rows); keep one row "
            "per person."
        )


@dataclass
class _Joined:
    """The data with its demographics joined in (when they came from a separate file), and where they came from."""

    frame: pd.DataFrame
    source: str  # the file name(s) that error messages name
    sensitive_path: Path | None = None
    sensitive_sha: str | None = None
    without_demographics: int = 0


def _join_demographics(
    frame: pd.DataFrame,
    data_path: Path,
    sensitive_data: str | Path,
    id_column: str | None,
    sensitive: Sequence[str],
) -> _Joined:
    """Join the sensitive columns from their own file on ``id_column``; unmatched rows keep missing values."""
    from governance.provenance import sha256_file

    if id_column is None:
        raise InputError(
            "{sensitive_data} needs {id_column} COL, the column that links its rows to the data.",
            fields=["sensitive_data", "id_column"],
        )
    sensitive_path = Path(sensitive_data)
    demographics = read_table(sensitive_path, field="sensitive_data")
    require_columns(frame, [id_column], source=data_path.name, field="id_column")
    require_columns(demographics, [id_column], source=sensitive_path.name, field="id_column")
    require_columns(demographics, sensitive, source=sensitive_path.name, field="sensitive")
    _one_row_per_id(demographics, id_column, sensitive_path.name)
    clash = [name for name in sensitive if name in frame.columns]
    if clash:
        frame = frame.drop(columns=clash)
    frame = frame.merge(
        demographics[[id_column, *sensitive]], on=id_column, how="left", validate="many_to_one"
    )
    matched = frame[id_column].isin(demographics[id_column])
    return _Joined(
        frame=frame,
        source=f"{data_path.name} joined with {sensitive_path.name}",
        sensitive_path=sensitive_path,
        sensitive_sha=sha256_file(sensitive_path),
        without_demographics=int((~matched).sum()),
    )


def _check_labels_and_weights(
    frame: pd.DataFrame, source: str, *, target: str | None, weights: str | None
) -> None:
    """A target with a label in every row, and weights that are non-negative numbers in every row."""
    import pandas as pd

    if target is not None:
        require_columns(frame, [target], source=source, field="target")
        if frame[target].isna().any():
            raise missing_labels_error(target, int(frame[target].isna().sum()), role="target")
    if weights is not None:
        require_columns(frame, [weights], source=source, field="weights")
        column = pd.to_numeric(frame[weights], errors="coerce")
        if column.isna().any() or (column < 0).any():
            raise InputError(f"The weights column '{weights}' must hold non-negative numbers in every row.")


def _check_sensitive_values(frame: pd.DataFrame, sensitive: Sequence[str]) -> None:
    """A sensitive column empty in every row audits nothing (often a failed join)."""
    for name in sensitive:
        if frame[name].isna().all():
            raise InputError(
                f"The sensitive column '{name}' is empty in every row; check the column or the {{id_column}} join.",
                fields=["id_column"],
            )


def no_sensitive_error() -> InputError:
    """The one sentence for an audit that names no sensitive column."""
    return InputError(
        "Name at least one sensitive column with {sensitive} (for example {sensitive} sex).",
        fields=["sensitive"],
    )


def _read_with_demographics(
    data_path: Path, *, sensitive: Sequence[str], sensitive_data: str | Path | None, id_column: str | None
) -> _Joined:
    """The data file, with the sensitive columns in it or joined from ``sensitive_data``."""
    if not sensitive:
        raise no_sensitive_error()
    if len(set(sensitive)) != len(sensitive):
        raise InputError(
            "A sensitive column is named twice with {sensitive}; name each once.", fields=["sensitive"]
        )
    frame = read_table(data_path)
    if sensitive_data is not None:
        return _join_demographics(frame, data_path, sensitive_data, id_column, sensitive)
    require_columns(frame, list(sensitive), source=data_path.name, field="sensitive")
    return _Joined(frame=frame, source=data_path.name)


def load_audit_data(
    path: str | Path,
    *,
    target: str | None,
    sensitive: Sequence[str],
    features: Sequence[str] | None = None,
    sensitive_data: str | Path | None = None,
    id_column: str | None = None,
    weights: str | None = None,
    extra_columns: Sequence[str] = (),
    model: Any = None,
) -> AuditData:
    """Read and check the audit data; join demographics from ``sensitive_data`` on ``id_column``.

    ``extra_columns`` are columns that must exist but are not features (``predictions``, ``scores``).
    The features are chosen by ``choose_input_columns``: ``features``, else the ``model``'s own input columns,
    else every column that is not the target, a sensitive column, the id or an extra column.
    """
    data_path = Path(path)
    joined = _read_with_demographics(
        data_path, sensitive=sensitive, sensitive_data=sensitive_data, id_column=id_column
    )
    frame, source = joined.frame, joined.source
    if id_column is not None:
        require_columns(frame, [id_column], source=source, field="id_column")
        _one_row_per_id(frame, id_column, data_path.name)
    _check_labels_and_weights(frame, source, target=target, weights=weights)
    require_columns(frame, list(extra_columns), source=source, field="predictions_or_scores")
    _check_sensitive_values(frame, sensitive)
    excluded = {*extra_columns, *(c for c in (target, id_column, weights) if c)}
    inputs = choose_input_columns(
        list(frame.columns),
        model=model,
        features=features,
        sensitive=sensitive,
        excluded=excluded,
        source=source,
    )
    return AuditData(
        frame=frame.reset_index(drop=True),
        path=data_path,
        sha256=_sha256_file(data_path),
        target=target,
        sensitive=list(sensitive),
        features=inputs.names,
        features_source=inputs.source,
        id_column=id_column,
        weights_column=weights,
        sensitive_data_path=joined.sensitive_path,
        sensitive_data_sha256=joined.sensitive_sha,
        rows_without_demographics=joined.without_demographics,
    )


def _listed(names: Sequence[str]) -> str:
    quoted = [f"'{name}'" for name in names]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"


def case_variant_notes(categories: Mapping[str, Iterable[str]]) -> list[str]:
    """A note per sensitive column whose categories differ only in case or surrounding spaces.

    "Female" and "female " are one category to a person and two groups to the audit: each is judged on its
    own, smaller numbers and the impact ratios compare a group with itself. The user has to clean the column.
    """
    notes = []
    for column, values in categories.items():
        spellings: dict[str, set[str]] = {}
        for value in values:
            spellings.setdefault(" ".join(str(value).split()).casefold(), set()).add(str(value))
        clashes = [sorted(found) for _key, found in sorted(spellings.items()) if len(found) > 1]
        if clashes:
            pairs = ", ".join(_listed(clash) for clash in clashes)
            notes.append(
                f"The sensitive column '{column}' has categories that differ only in capital letters or spaces: "
                f"{pairs}. They are audited as separate groups; clean the column (one spelling per category, no "
                "leading or trailing spaces) and audit again."
            )
    return notes


def _sha256_file(path: Path) -> str:
    """governance.provenance's, imported here only when a file is read: an audit of a table sends its query
    before the provenance's libraries (hashlib, subprocess, platform) are loaded (governance.intake.early)."""
    from governance.provenance import sha256_file

    return sha256_file(path)
