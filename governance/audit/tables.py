"""An audit of a table where it lives (DuckDB, PostgreSQL, Spark): aggregates in the engine, the rest here.

Saved predictions: the count table comes from one ``GROUP BY`` in the engine (a few hundred rows whatever the
table's size); AUC and regression metrics get the distinct (groups, label, value, weight) rows with their
counts, read in batches. A model: the needed columns come as Arrow batches, each scored at once, and each batch
is folded into the distinct (groups, label, prediction, score, weight) rows with their counts (not the features,
nor a row per row): memory is bounded whatever the table's size (:mod:`governance.audit.fairness.distinct`,
which rounds the amounts past a limit and states what that costs). The explanation gets a sample stratified by
sensitive group, drawn in the same pass with the audit's seed. The bootstrap, tests and verdict then run on the
counted rows exactly as for a file's rows, so the numbers are the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.errors import InputError
from governance.intake import early
from governance.intake.data import (
    AuditData,
    InputColumns,
    choose_input_columns,
    missing_labels_error,
    no_sensitive_error,
)
from governance.intake.engine import (
    BATCH_ROWS,
    COUNT,
    DEFAULT_CONNECTION,
    ENGINE_NAMES,
    FINGERPRINT_METHOD,
    NUMERIC_TYPES,
    TableSource,
    fingerprint,
)
from governance.intake.sources import open_plain, open_source
from governance.intake.sql_source import SqlSource

if TYPE_CHECKING:
    import pandas as pd

    from governance.audit.fairness.distinct import DistinctRows, Rounding
    from governance.intake.grouped import Grouped
    from governance.results.audit import TableInfo
    from governance.results.fairness import FairnessResult

Source = TableSource | SqlSource
Score = Callable[[Any], tuple[Any, Any, Any]]
"""score(X) -> (predictions, scores or None, positive label): the model run on one batch."""
CheckTask = Callable[[str, list[Any]], None]
"""check_task(task, classes): refuses a policy that cannot judge this kind of prediction."""

DEFAULT_SAMPLE_ROWS = 2000  # rows fetched for the explanation when --explain-rows is not given


@dataclass(frozen=True)
class TableRequest:
    """What to read and how: the connection, the table or query, and the columns' roles."""

    connection: Any
    table: str | None
    query: str | None
    sensitive: Sequence[str]
    target: str | None = None
    predictions: str | None = None
    scores: str | None = None
    weights: str | None = None
    features: Sequence[str] | None = None
    timeout: float | None = None
    batch_rows: int = BATCH_ROWS
    extra: Sequence[str] = ()  # other columns to read (an id column)
    file: str | None = None  # a local file that ``query`` reads through DuckDB (its name, for messages)


@dataclass
class TableInputs:
    """What the rest of ``audit()`` needs from a table audit."""

    fairness: FairnessResult
    n_rows: int
    info: TableInfo
    label: Any
    sample: AuditData | None = None  # the explanation's stratified sample (model audits)
    features: list[str] | None = None


@dataclass(frozen=True)
class _Scored:
    """What scoring a table gave: the fairness result, rows read, the explanation's sample, the positive label,
    and how the scored rows were kept (distinct rows, rounding)."""

    fairness: FairnessResult
    n_rows: int
    sample: pd.DataFrame
    label: Any
    kept: Kept


@dataclass(frozen=True)
class Kept:
    """How many distinct rows the row-level metrics were computed from, and the rounding that fitted them."""

    distinct_rows: int
    rounding: Rounding | None


def _fields(request: TableRequest) -> dict[str, str]:
    """Each column the request names, by the argument that named it (for the messages)."""
    fields = dict.fromkeys(request.sensitive, "sensitive")
    for column, field in (
        (request.target, "target"),
        (request.predictions, "predictions"),
        (request.scores, "scores"),
        (request.weights, "weights"),
    ):
        if column:
            fields[column] = field
    return fields


def open_request(
    request: TableRequest, *, extra: Sequence[str] = (), check_values: bool = True, rows: bool = False
) -> Source:
    """Connect and check the columns; refuse missing labels and bad weights before any long pass.

    ``rows``: a model reads the rows in batches (else only aggregates are read)."""
    if not request.sensitive:
        raise no_sensitive_error()
    named = [request.target, request.predictions, request.scores, request.weights]
    columns = [*request.sensitive, *(c for c in named if c), *request.extra, *extra]
    numeric = [c for c in (request.scores, request.weights) if c]
    source = open_source(
        request.connection,
        table=request.table,
        query=request.query,
        columns=list(dict.fromkeys(columns)),
        fields=_fields(request),
        numeric=numeric,
        timeout=request.timeout,
        file=request.file,
        rows=rows,
    )
    if check_values:
        _check_values(source, request)
    return source


def _check_values(source: Source, request: TableRequest) -> None:
    """Refuse missing labels and missing or negative weights (a pass over each column)."""
    for column, role in ((request.target, "target"), (request.predictions, "predictions")):
        if column:
            missing = source.null_count(column)
            if missing:
                raise missing_labels_error(column, missing, role=role)  # type: ignore[arg-type]
    if request.weights:
        total, smallest, largest = source.numeric_summary([request.weights])[request.weights]
        bad = source.null_count(request.weights) or (smallest is not None and smallest < 0)
        if not bad and largest is None:  # NaN (engines sort it last) or no rows
            bad = source.row_count() > 0
        if bad or not _finite([v for v in (total, largest) if v is not None]):
            raise InputError(_BAD_WEIGHTS.format(request.weights))


_BAD_WEIGHTS = "The weights column '{}' must hold non-negative numbers in every row."
GROUP_LIMIT = 200_000  # more label groups than this: the labels are amounts, read column by column


def _check_groups(groups: Grouped, request: TableRequest) -> None:
    """The same refusals as ``_check_values``, from the grouped rows of one pass."""
    for column, role in ((request.target, "target"), (request.predictions, "predictions")):
        if column:
            missing = int(groups.column("n__")[groups.missing(column)].sum())
            if missing:
                raise missing_labels_error(column, missing, role=role)  # type: ignore[arg-type]
    if request.weights:
        smallest = groups.smallest("wmin__")
        if int(groups.total("wnull__")) or (smallest == smallest and smallest < 0):
            raise InputError(_BAD_WEIGHTS.format(request.weights))
        if not _finite(groups.column("wmax__")):  # with no NULL, a NaN maximum is a NaN weight (sorted last)
            raise InputError(_BAD_WEIGHTS.format(request.weights))


def _finite(values: Any) -> bool:
    import numpy as np

    return bool(np.isfinite(np.asarray(values, dtype=float)).all())


def table_info(
    source: Source,
    *,
    keys: Sequence[str],
    numeric: Sequence[str],
    weights: str | None,
    counts: Grouped | None = None,
) -> TableInfo:
    """The provenance of a table audit: backend, redacted connection, row count and fingerprint."""
    from governance.provenance import isoformat, now
    from governance.results.audit import TableInfo

    if counts is None:
        counts = source.group_counts(list(keys), weights)
    n_rows = int(counts.column("n__").sum())
    summary = _weights_summary(counts, weights, numeric)
    summary |= source.numeric_summary([c for c in numeric if c not in summary])
    return TableInfo(
        backend=source.con.backend,
        connection=source.con.url,
        table=source.table,
        query=source.query,
        n_rows=n_rows,
        fingerprint=fingerprint(counts, n_rows, summary),
        fingerprint_method=FINGERPRINT_METHOD,
        fingerprint_keys=list(keys),
        fingerprint_numeric=list(numeric),
        fingerprint_weights=weights,
        queried_at=isoformat(now()),
    )


def _weights_summary(
    counts: Grouped, weights: str | None, numeric: Sequence[str]
) -> dict[str, list[float | None]]:
    """The weights' sum, minimum and maximum from the count table's own pass (its checks hold them), so that a
    weighted audit reads the table once; the same numbers as ``numeric_summary`` to the fingerprint's 10 digits."""
    if weights is None or weights not in numeric or "wmax__" not in counts.names or len(counts) == 0:
        return {}
    return {weights: [counts.exact_total("w__"), counts.smallest("wmin__"), counts.largest("wmax__")]}


def refingerprint(info: TableInfo, connection: Any, *, timeout: float | None = None) -> str:
    """Run the recorded fingerprint queries again on ``connection`` (``register verify --refingerprint``)."""
    named = [
        *info.fingerprint_keys,
        *info.fingerprint_numeric,
        *(c for c in (info.fingerprint_weights,) if c),
    ]
    columns = list(dict.fromkeys(named))
    source = open_source(
        connection, table=info.table, query=info.query, columns=columns, fields={}, timeout=timeout
    )
    counts = source.group_counts(info.fingerprint_keys, info.fingerprint_weights)
    n_rows = int(counts.column("n__").sum())
    numeric = source.numeric_summary(info.fingerprint_numeric)
    now = fingerprint(counts, n_rows, numeric)
    decimal_keys = any(source.schema[c].lstrip("!").startswith("decimal") for c in info.fingerprint_keys)
    if now == info.fingerprint or not decimal_keys:
        return now
    # Recorded before DECIMAL values became numbers: the same rows then spelled '0.50' where now 0.5
    exact = source.group_counts(info.fingerprint_keys, info.fingerprint_weights, exact=True)
    before = fingerprint(exact, n_rows, numeric, decimals_as_text=True)
    return before if before == info.fingerprint else now


def _first_keys(request: TableRequest) -> list[str]:
    """The first pass's groups over saved predictions: the sensitive columns, the label and the prediction."""
    return [*request.sensitive, *(c for c in (request.target, request.predictions) if c)]


def ahead_request(request: TableRequest, *, data: str | None) -> TableRequest | None:
    """What an audit of saved predictions will ask the engine first: ``request`` itself, or a local Parquet or
    large CSV ``data`` file read through DuckDB as ``audit`` reads it; ``None`` when no engine reads the rows."""
    if request.predictions is None or not isinstance(request.connection, (str, type(None))):
        return None
    if data is None:
        return request if (request.table is None) != (request.query is None) else None
    path = Path(data)
    if request.table or request.query or request.scores or not path.is_file():
        return None
    sql = file_query(path)
    return None if sql is None else replace(request, connection="duckdb://", query=sql, file=path.name)


@contextlib.contextmanager
def first_pass_ahead(request: TableRequest | None) -> Iterator[None]:
    """Send the audit's first query ahead while the block runs the audit (:mod:`governance.intake.early`), and
    stop it when the block ends if the audit did not take it (an error before, say)."""
    if request is not None and request.sensitive:
        connection = request.connection or DEFAULT_CONNECTION
        where = early.Where(connection, request.table, request.query, request.timeout, request.file)
        early.send_ahead(where, lambda: _open_ahead(request), lambda source: _first_sql(source, request))
    try:
        yield
    finally:
        early.discard()


def _open_ahead(request: TableRequest) -> SqlSource | None:
    return open_plain(
        request.connection, table=request.table, query=request.query, timeout=request.timeout, rows=False,
        file=request.file, claim=False,
    )  # fmt: skip


def _first_sql(source: SqlSource, request: TableRequest) -> str | None:
    """The first pass's SQL, when its columns are there (else the audit says what is missing, nothing is sent)."""
    keys = _first_keys(request)
    if any(c not in source.schema for c in [*keys, *(c for c in (request.weights,) if c)]):
        return None
    if request.weights and not source.schema[request.weights].lstrip("!").startswith(NUMERIC_TYPES):
        return None
    return source.group_sql(keys, request.weights, limit=GROUP_LIMIT, checks=True)


def predictions_inputs(
    request: TableRequest,
    *,
    check_task: CheckTask,
    compute: Callable[..., FairnessResult],
    compute_counts: Callable[..., FairnessResult],
    threshold: float | None,
    positive_label: Any,
) -> TableInputs:
    """Saved predictions in a table: the count table (or the distinct rows for AUC and amounts) from the engine."""
    from governance.audit.fairness._inputs import check_labels, column_nouns
    from governance.audit.fairness.grouped import table_from_groups

    assert request.predictions is not None
    _refuse_engine_names(
        [*request.sensitive, *(c for c in (request.target, request.predictions, request.scores) if c)]
    )
    source = open_request(request, check_values=False)
    predictions, target, weights = request.predictions, request.target, request.weights
    nouns = column_nouns(predictions=predictions, target=target)
    # One pass for the usual case: the grouped rows hold the label values, the checks and the count table.
    grouped = source.group_counts(_first_keys(request), weights, limit=GROUP_LIMIT, checks=True)
    if len(grouped) == 0:
        what = source.what[0].upper() + source.what[1:]
        raise InputError(f"{what} has no rows; an audit needs data.", fields=["query"])
    first = grouped if len(grouped) <= GROUP_LIMIT else None
    if first is not None:
        _check_groups(first, request)
        target_values = first.distinct(target) if target else None
        prediction_values = first.distinct(predictions)
    else:
        _check_values(source, request)
        target_values = source.distinct_values(target) if target else None
        prediction_values = source.distinct_values(predictions)
    task, classes = check_labels(prediction_values, target_values, nouns=nouns)
    if not request.scores:
        check_task(task, classes)  # with scores, the rows are checked as in memory (a threshold may decide)
    label_keys = [c for c in (target, predictions) if c and task != "regression"]
    keys = [*request.sensitive, *label_keys]
    numeric = [c for c in (request.scores, weights) if c]
    if task == "regression":
        numeric = [c for c in (predictions, target, weights) if c]
    if task != "regression" and not request.scores:
        counts = first if first is not None else source.group_counts(keys, weights)
        table = table_from_groups(
            counts, predictions=predictions, sensitive=request.sensitive, target=target,
            weighted=weights is not None, task=task, positive_label=positive_label,
        )  # fmt: skip
        info = table_info(source, keys=keys, numeric=numeric, weights=weights, counts=counts)
        _done_with(source)
        return TableInputs(
            fairness=compute_counts(table), n_rows=info.n_rows, info=info, label=positive_label
        )
    distinct = _distinct(request, predictions=predictions, scores=request.scores)
    row_keys = distinct.columns.keys
    for batch in source.group_batches(row_keys, request.batch_rows):
        if threshold is not None and request.scores:  # decided on the exact scores, before any rounding
            batch[predictions] = (batch[request.scores].astype(float) >= threshold).astype(int)
        distinct.add(batch, batch[COUNT].to_numpy())
    info = table_info(source, keys=keys, numeric=numeric, weights=weights)
    _done_with(source)
    kept_rows, row_counts = distinct.rows()
    fairness, kept = _noted(
        compute(rows=kept_rows, counts=row_counts, task=task), distinct, (kept_rows, row_counts)
    )
    return TableInputs(
        fairness=fairness, n_rows=distinct.n_rows, info=_kept_info(info, kept),
        label=positive_label,
    )  # fmt: skip


def _distinct(request: TableRequest, *, predictions: str, scores: str | None) -> DistinctRows:
    """Where the scored (or saved) rows of a table are kept: once per distinct combination, with counts."""
    from governance.audit.fairness.distinct import DistinctRows, ScoredColumns

    columns = ScoredColumns(
        sensitive=list(request.sensitive), predictions=predictions, target=request.target, scores=scores,
        weights=request.weights,
    )  # fmt: skip
    return DistinctRows(columns)


def _scoring_rates(fairness: FairnessResult) -> bool:
    """Whether the audit's LL144 tables count the rows scoring above the median (which rounding may move)."""
    return any(a.ll144 is not None and a.ll144.rate_kind == "scoring" for a in fairness.attributes)


def _noted(
    fairness: FairnessResult, distinct: DistinctRows, kept_rows: tuple[pd.DataFrame, Any]
) -> tuple[FairnessResult, Kept]:
    """How the counted rows were kept (``kept_rows``: what ``distinct.rows()`` gave), and the result with a note
    saying how the amounts were rounded, when they had to be."""
    from governance.audit.fairness.distinct import bits_note

    rounding = distinct.rounding(kept_rows, scoring_rates=_scoring_rates(fairness))
    kept = Kept(distinct_rows=len(kept_rows[0]), rounding=rounding)
    if rounding is None:
        return fairness, kept
    note = bits_note(rounding, distinct.limit, weighted=distinct.columns.weights is not None)
    return fairness.model_copy(update={"notes": [*fairness.notes, note]}), kept


def _kept_info(info: TableInfo, kept: Kept) -> TableInfo:
    rounding = kept.rounding
    return info.model_copy(
        update={
            "distinct_rows": kept.distinct_rows,
            "rounded_to_bits": None if rounding is None else rounding.bits,
            "rounding_bounds": {} if rounding is None else dict(rounding.bounds),
        }
    )


def _done_with(source: Source) -> None:
    """Nothing more is read from ``source``: a connection opened ahead is closed meanwhile (intake.early)."""
    if isinstance(source, SqlSource):
        early.release(source)


@dataclass
class _Sample:
    """A uniform sample of at most ``size`` rows per sensitive group (bottom-k by a random key), batch by batch."""

    size: int
    seed: int
    kept: pd.DataFrame | None = None
    counts: dict[Any, int] | None = None
    bounds: dict[Any, float] | None = None  # a full group's largest kept key: a row above it cannot get in

    def add(self, frame: pd.DataFrame, cells: pd.Series, rng: Any) -> None:
        import numpy as np
        import pandas as pd

        keys, names = rng.random(len(frame)), cells.to_numpy()
        counts = self.counts or {}
        for cell, n in cells.value_counts(dropna=False).items():
            counts[cell] = counts.get(cell, 0) + int(n)
        self.counts = counts
        if (
            self.bounds
        ):  # only the rows that can still get in are sorted (a million rows sorted per batch before)
            bound = cells.map(self.bounds).to_numpy(dtype=float, na_value=np.inf)
            inside = keys < bound
            frame, keys, names = frame[inside], keys[inside], names[inside]
        part = frame.assign(__key=keys, __cell=names)
        combined = part if self.kept is None else pd.concat([self.kept, part], ignore_index=True)
        self.kept = combined.sort_values("__key", kind="stable").groupby("__cell", sort=False).head(self.size)
        grouped = self.kept.groupby("__cell", sort=False)["__key"]
        full = grouped.size() >= self.size
        self.bounds = grouped.max()[full].to_dict()

    def draw(self) -> pd.DataFrame:
        """Each group's share of ``size`` rows, in proportion to its size (at least one row per group)."""
        assert self.kept is not None and self.counts is not None
        total = sum(self.counts.values())
        quota = {cell: max(1, round(self.size * n / total)) for cell, n in self.counts.items()}
        ranked = self.kept.sort_values("__key", kind="stable")
        rank = ranked.groupby("__cell", sort=False).cumcount()
        keep = rank < ranked["__cell"].map(quota).to_numpy()
        return ranked[keep].drop(columns=["__key", "__cell"]).reset_index(drop=True)


def _open_for_model(request: TableRequest, model: Any) -> tuple[Source, InputColumns, list[str]]:
    """Connect and check, then choose the model's inputs: the source, the inputs and the columns a pass reads."""
    source = open_request(request, rows=True)
    excluded = {c for c in (request.target, request.weights) if c}
    inputs = choose_input_columns(
        list(source.schema), model=model, features=request.features, sensitive=request.sensitive,
        excluded=excluded, source=source.named,
    )  # fmt: skip
    return source, inputs, list(dict.fromkeys([*inputs.names, *request.sensitive, *excluded]))


def model_inputs(
    request: TableRequest,
    *,
    model: Any,
    score: Score,
    check_task: CheckTask,
    compute: Callable[..., FairnessResult],
    seed: int,
    sample_rows: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> TableInputs:
    """A model run over a table in Arrow batches: scored batch by batch, features dropped after each batch.

    ``progress(rows scored, rows in all)`` hears after each batch (the rows are counted first, for it only)."""
    source, inputs, columns = _open_for_model(request, model)
    scoring = _Scoring(
        columns=columns, names=inputs.names, score=score, check_task=check_task, compute=compute, seed=seed,
        size=sample_rows or DEFAULT_SAMPLE_ROWS, progress=progress,
    )  # fmt: skip
    run = _score_on_spark if source.con.backend == "pyspark" else _score_in_batches
    scored = run(source, request, scoring)
    drawn = scored.sample
    keys = [*request.sensitive, *(c for c in (request.target,) if c)]
    numeric_features = [
        c
        for c in inputs.names
        if source.schema[c].lstrip("!").startswith(("int", "uint", "float", "decimal"))
    ]
    numeric = list(dict.fromkeys([*numeric_features, *(c for c in (request.weights,) if c)]))
    info = _kept_info(table_info(source, keys=keys, numeric=numeric, weights=request.weights), scored.kept)
    info = info.model_copy(update={"explain_sample_rows": len(drawn), "explain_sample_seed": seed})
    audit_sample = AuditData(
        frame=drawn,
        path=Path(source.table or "query"),
        sha256=info.fingerprint,
        target=request.target,
        sensitive=list(request.sensitive),
        features=inputs.names,
        features_source=inputs.source,
        weights_column=request.weights,
    )
    return TableInputs(
        fairness=scored.fairness,
        n_rows=scored.n_rows,
        info=info,
        label=scored.label,
        sample=audit_sample,
        features=inputs.names,
    )


MAX_WHOLE_ROWS = 100_000  # --row / --batch read every row of a table: at most this many


def explain_rows(
    request: TableRequest, *, model: Any, seed: int, rows: int | None, whole: bool = False
) -> tuple[pd.DataFrame, list[str]]:
    """Rows for ``governance explain`` from a table: a sample stratified by sensitive group, or (``whole``) all.

    Returns the rows and the model's input columns.
    """
    import pandas as pd

    source, inputs, columns = _open_for_model(request, model)
    columns = list(dict.fromkeys([*columns, *request.extra]))
    if whole:
        count = source.row_count()
        if count > MAX_WHOLE_ROWS:
            raise InputError(
                f"{source.what[0].upper()}{source.what[1:]} has {count:,} rows, more than the {MAX_WHOLE_ROWS:,} that "
                "{row} and {batch} read at once; select the people to explain with {query}.",
                fields=["row", "batch", "query"],
            )
        frames = list(source.batches(columns, request.batch_rows))
        frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    else:
        frame = _explain_sample(source, columns, request, size=rows or DEFAULT_SAMPLE_ROWS, seed=seed)
        if len(frame) == 0:
            raise InputError(
                f"{source.what[0].upper()}{source.what[1:]} in {source.con.where} has no rows; there is nothing to explain.",
                fields=["query"],
            )
    return frame, inputs.names


def _sampled_in_sql(
    source: Source, columns: list[str], sensitive: list[str], *, size: int, seed: int
) -> pd.DataFrame | None:
    """DuckDB and PostgreSQL draw the sample in SQL (``sql_source.sample_sql``), read in plain SQL or through
    Ibis; ``None`` for other engines, or in the rare case a group kept fewer rows than its share."""
    from governance.intake.sql_source import SAMPLE_DIALECTS, sample_sql, stratified_sample

    if source.con.backend not in SAMPLE_DIALECTS:
        return None
    inner = f"({source.select_sql(columns)}) AS source__"
    sql = sample_sql(inner, columns, sensitive, size, seed, source.con.backend)
    return stratified_sample(source.frame_of_sql(sql), sensitive, size)


def _explain_sample(
    source: Source, columns: list[str], request: TableRequest, *, size: int, seed: int
) -> pd.DataFrame:
    """The stratified sample drawn where the rows live (DuckDB, PostgreSQL: in SQL; Spark: in Spark), so that only
    the sample crosses to this process; other engines stream their rows through ``_Sample``."""
    import numpy as np
    import pandas as pd

    sensitive = list(request.sensitive)
    if source.con.backend == "pyspark" and isinstance(source, TableSource):
        frame = source.con.ibis._session.sql(source.select_sql(columns))
        return _spark_sample(frame, sensitive, size=size, seed=seed, total=source.row_count())
    drawn = _sampled_in_sql(source, columns, sensitive, size=size, seed=seed)
    if drawn is not None:
        return drawn.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    sample = _Sample(size=size, seed=seed)
    for batch in source.batches(columns, request.batch_rows):
        sample.add(batch, _cells(batch[sensitive]), rng)
    return sample.draw() if sample.kept is not None else pd.DataFrame(columns=columns)


CSV_THROUGH_DUCKDB_BYTES = 64 * 1024 * 1024  # smaller CSV files are read whole by pandas, as before
_PANDAS_MISSING = [
    "",
    "NA",
    "N/A",
    "NaN",
    "nan",
    "NULL",
    "null",
    "None",
    "n/a",
    "<NA>",
    "#N/A",
    "-NaN",
    "-nan",
]


def file_query(path: Path) -> str | None:
    """The DuckDB query that reads a local Parquet or large CSV file, or ``None`` when pandas reads it.

    CSV missing values are the ones pandas treats as missing, so both readers see the same groups.
    """
    quoted = str(path).replace("'", "''")
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return f"SELECT * FROM read_parquet('{quoted}')"
    if suffix == ".csv" and path.is_file() and path.stat().st_size >= CSV_THROUGH_DUCKDB_BYTES:
        missing = ", ".join(f"'{value}'" for value in _PANDAS_MISSING)
        return f"SELECT * FROM read_csv('{quoted}', nullstr = [{missing}])"
    return None


@dataclass(frozen=True)
class _Scoring:
    """What both ways of scoring a table need (Arrow batches here, or Spark's workers): one object, one signature."""

    columns: list[str]  # the columns read: the model's inputs, the sensitive columns, target and weights
    names: list[str]  # the model's input columns
    score: Score
    check_task: CheckTask
    compute: Callable[..., FairnessResult]
    seed: int
    size: int  # rows in the explanation's sample
    progress: Callable[[int, int], None] | None = None  # (rows scored, rows in all), after each batch

    def fairness(
        self, request: TableRequest, distinct: DistinctRows, label: Any
    ) -> tuple[FairnessResult, Kept]:
        """Check the labels (their raw values) and the policy's task, then compute from the counted rows."""
        from governance.audit.fairness._inputs import check_labels, column_nouns

        nouns = column_nouns(predictions=None, target=request.target)
        target, predicted = request.target, distinct.columns.predictions
        task, classes = check_labels(
            distinct.label_values(predicted), distinct.label_values(target) if target else None, nouns=nouns
        )
        self.check_task(task, classes)
        rows, counts = distinct.rows()
        scores = distinct.columns.scores
        fairness = self.compute(
            y_pred=rows[predicted].to_numpy(), y_true=rows[target].to_numpy() if target else None, task=task,
            label=label, scores=rows[scores].to_numpy(dtype=float) if scores else None,
            weights=rows[request.weights].to_numpy(dtype=float) if request.weights else None,
            sensitive=rows[list(request.sensitive)], counts=counts,
        )  # fmt: skip
        return _noted(fairness, distinct, (rows, counts))


def _score_in_batches(source: Source, request: TableRequest, scoring: _Scoring) -> _Scored:
    """Arrow batches from the engine, each scored here and folded into the distinct scored rows; the features
    and the rows themselves are dropped after each batch, so memory does not grow with the table."""
    import numpy as np

    rng = np.random.default_rng(scoring.seed)
    sample = _Sample(size=scoring.size, seed=scoring.seed)
    kept_columns = _kept_columns(request)
    predicted, scored = _scored_names(kept_columns)
    distinct: DistinctRows | None = None
    label: Any = None
    total = source.row_count() if scoring.progress else 0
    for frame in source.batches(scoring.columns, request.batch_rows):
        y_pred, scores, label = scoring.score(frame[scoring.names])
        part = frame[kept_columns].copy()
        part[predicted] = np.asarray(y_pred)
        if scores is not None:
            part[scored] = np.asarray(scores, dtype=float)
        if distinct is None:
            distinct = _distinct(request, predictions=predicted, scores=None if scores is None else scored)
        distinct.add(part)
        sample.add(frame, _cells(frame[list(request.sensitive)]), rng)
        if scoring.progress:  # not done before the scan ends: a query may give it more rows than it counted
            scoring.progress(distinct.n_rows, max(total, distinct.n_rows + 1))
    if distinct is None:
        raise InputError(
            f"{_capital(source.what)} in {source.con.where} has no rows; an audit needs data.",
            fields=["query"],
        )
    if scoring.progress:  # done, at the rows scored (fewer than counted, when the query changed)
        scoring.progress(distinct.n_rows, distinct.n_rows)
    fairness, kept = scoring.fairness(request, distinct, label)
    return _Scored(fairness, distinct.n_rows, sample.draw(), label, kept)


def _kept_columns(request: TableRequest) -> list[str]:
    """The columns a scored row keeps besides its prediction and score: groups, outcome and weight."""
    return list(dict.fromkeys([*request.sensitive, *(c for c in (request.target, request.weights) if c)]))


def _cells(sensitive: pd.DataFrame) -> pd.Series:
    """Each row's sensitive cell as one text (the values joined by \x1f, a missing one as \0), column by column:
    joined row by row it took about 30 us a row, hours for a large table (explain, a model's audit)."""
    texts = [sensitive[column].astype("string").fillna("\0") for column in sensitive.columns]
    joined = texts[0]
    for text in texts[1:]:
        joined = joined + "\x1f" + text
    return joined.astype(object)


def _capital(text: str) -> str:
    return text[0].upper() + text[1:]


PREDICTED, SCORED = "prediction__", "score__"


def _scored_names(kept: Sequence[str]) -> tuple[str, str]:
    """The model's prediction and score columns, named apart from the table's own (a group named 'score__')."""
    from governance.audit.fairness.distinct import free_name

    return free_name(PREDICTED, kept), free_name(SCORED, kept)


def _refuse_engine_names(columns: Sequence[str]) -> None:
    """The engine's GROUP BY names its counts and sums so; a grouped column of the same name would clash."""
    clash = [c for c in columns if c in ENGINE_NAMES]
    if clash:
        raise InputError(
            f"The column '{clash[0]}' has a name the audit's engine queries give their counts and sums "
            f'({", ".join(ENGINE_NAMES)}); rename it in {{query}} (SELECT ..., "{clash[0]}" AS other_name) '
            "and audit that.",
            fields=["query"],
        )


def _spark_type(values: Any) -> str:
    import numpy as np

    array = np.asarray(values)
    if array.dtype.kind == "b":
        return "boolean"
    if array.dtype.kind in "iu":
        return "bigint"
    if array.dtype.kind == "f":
        return "double"
    return "string"


def _score_on_spark(source: Source, request: TableRequest, scoring: _Scoring) -> _Scored:
    """The model broadcast to Spark's workers and run there (``mapInPandas``); only aggregates come back.

    The scored rows become a view, and the same GROUP BY as for saved predictions reads them, in batches: the
    distinct (groups, label, prediction, score, weight) rows with their counts, which give the in-memory numbers.
    """
    import uuid

    assert isinstance(source, TableSource)
    columns, names, score = scoring.columns, scoring.names, scoring.score
    session = source.con.ibis._session
    frame = session.sql(source.select_sql(columns))
    first = source.run(source.expr.select(columns).limit(20))
    if len(first) == 0:
        raise InputError(
            f"{_capital(source.what)} in {source.con.where} has no rows; an audit needs data.",
            fields=["query"],
        )
    y_pred, scores, label = score(
        first[names]
    )  # here first: a model that cannot predict fails in one sentence
    kept = _kept_columns(request)
    _refuse_engine_names(kept)
    predicted_name, scored_name = _scored_names(kept)
    fields = [f"`{c}` {frame.schema[c].dataType.simpleString()}" for c in kept]
    fields.append(f"`{predicted_name}` {_spark_type(y_pred)}")
    if scores is not None:
        fields.append(f"`{scored_name}` double")
    from pyspark import cloudpickle

    # The model as this process loaded and checked it, serialised once for the workers (never read from disk there).
    shared = session.sparkContext.broadcast(cloudpickle.dumps(score))  # type: ignore[no-untyped-call]

    def run(batches: Any) -> Any:
        scorer = cloudpickle.loads(shared.value)
        for batch in batches:
            predicted, scored, _ = scorer(batch[names])
            out = batch[kept].copy()
            out[predicted_name] = predicted
            if scored is not None:
                out[scored_name] = scored
            yield out

    view = f"governance_scored_{uuid.uuid4().hex[:12]}"
    frame.mapInPandas(run, schema=", ".join(fields)).createOrReplaceTempView(view)
    distinct = _distinct(request, predictions=predicted_name, scores=None if scores is None else scored_name)
    try:
        scored_source = open_source(
            source.con.ibis, table=view, query=None, columns=[*kept, predicted_name], fields={}
        )
        for grouped in scored_source.group_batches(distinct.columns.keys, request.batch_rows):
            distinct.add(grouped, grouped[COUNT].to_numpy())
    finally:
        session.catalog.dropTempView(view)
    fairness, kept_rows = scoring.fairness(request, distinct, label)
    drawn = _spark_sample(
        frame, request.sensitive, size=scoring.size, seed=scoring.seed, total=distinct.n_rows
    )
    return _Scored(fairness, distinct.n_rows, drawn, label, kept_rows)


def _spark_sample(frame: Any, sensitive: Sequence[str], *, size: int, seed: int, total: int) -> pd.DataFrame:
    """Each sensitive group's share of ``size`` rows (at least one), drawn in Spark in a seeded random order."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    groups = [F.col(f"`{c}`") for c in sensitive]
    ordered = Window.partitionBy(*groups).orderBy(F.rand(seed))
    ranked = frame.withColumn("rank__", F.row_number().over(ordered))
    ranked = ranked.withColumn("group_n__", F.count(F.lit(1)).over(Window.partitionBy(*groups)))
    quota = F.greatest(F.lit(1), F.round(F.lit(size) * F.col("group_n__") / F.lit(max(total, 1))))
    chosen = ranked.filter(F.col("rank__") <= quota).drop("rank__", "group_n__")
    sample: pd.DataFrame = chosen.toArrow().to_pandas()
    return sample
