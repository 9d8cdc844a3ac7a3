"""``governance mitigate``: candidate versions of a model whose audit failed, registered, audited and compared.

The audit specification comes from the version's latest recorded audit (target, sensitive attributes, positive
label, policy; the pin in ``governance.yaml`` wins for the policy). Each candidate is built with fairlearn on the
training data, saved with skops, registered as ``VERSION-METHOD`` with its lineage (``mitigated-from``, method,
constraint, parameters, seed) and audited on the holdout through the register, like any version.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.atomic import replacing
from governance.errors import FieldError, InputError
from governance.mitigate.methods import CONSTRAINTS, METHODS, Candidate, Training
from governance.results.commands import option_of

if TYPE_CHECKING:
    from governance.audit.run import AuditRequest
    from governance.register import Register
    from governance.results.audit import AuditResult
    from governance.workspace import Workspace

Echo = Callable[[str], None]


@dataclass(frozen=True)
class MitigationRequest:
    """What to mitigate and how: the options of ``governance mitigate``."""

    name: str
    version: str
    data: str | Path  # training data: the candidates are fitted on it
    holdout: str | Path  # the data every candidate is audited on
    methods: Sequence[str] = ("threshold",)
    constraint: str | None = None  # a fairlearn constraint; default: the policy's first blocking rate rule
    attribute: str | None = None  # the sensitive attribute the constraint protects (default: the first)
    target: str | None = None  # default: the latest audit's
    sensitive: Sequence[str] = ()  # default: the latest audit's
    seed: int = 0
    budget_seconds: float = 600.0  # then no further method is started (the first always runs)
    explain: bool = True
    explain_budget: float = 60.0
    n_boot: int | None = None
    workspace: Workspace | None = None
    register_url: str | None = None
    actor: str | None = None
    command_line: str = ""
    reproducible_id: bool = False  # audit ids from the inputs instead of chance (the demo's golden files)


@dataclass(frozen=True)
class Spec:
    """How the version was audited, which every candidate is audited with too."""

    target: str
    sensitive: list[str]
    policy: str
    positive_label: Any
    features: list[str]
    proxies: list[str]  # likely proxies among the inputs, from the latest audit's explanation
    source_audit: AuditResult | None


@dataclass(frozen=True)
class ComparisonRow:
    """One line of the comparison: a version, its verdict, accuracy, key ratios and what it does."""

    version: str
    method: str
    verdict: str
    accuracy: Any  # Estimate | None
    ratios: dict[str, Any]  # rule id -> the deciding group's Estimate
    what_it_does: str
    uses_sensitive_at_decision: bool
    audit_id: str | None = None
    constraint: str | None = None


@dataclass
class MitigationOutcome:
    """The comparison rows (the original first) and what happened beside them."""

    rows: list[ComparisonRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    folder: Path | None = None


def check_request(request: MitigationRequest) -> None:
    """Refuse options that could only fail later, before anything is read."""
    unknown = [m for m in request.methods if m not in METHODS]
    if unknown or not request.methods:
        raise InputError(
            f"{{methods}} {unknown[0] if unknown else '(none)'} is not a mitigation method; use {', '.join(METHODS)}.",
            fields={"methods": "the method"},
        )
    if request.constraint is not None and request.constraint not in CONSTRAINTS:
        raise InputError(
            f"{{constraint}} {request.constraint} is not known; use one of {', '.join(CONSTRAINTS)}.",
            fields=["constraint"],
        )
    if not request.budget_seconds > 0:
        raise FieldError(
            "budget_seconds",
            f"{{field}} must be a positive number of seconds, not {request.budget_seconds:g}.",
        )
    if not 0 <= request.seed <= 2**32 - 1:
        raise FieldError(
            "seed", f"{{field}} must be a whole number from 0 to {2**32 - 1}, not {request.seed}."
        )


def mitigate(request: MitigationRequest, *, echo: Echo | None = None) -> MitigationOutcome:
    """Build, register, audit and compare candidates for ``request.name@request.version``."""
    from governance.register import Register
    from governance.workspace import require_workspace

    check_request(request)
    say = echo or (lambda _: None)
    space = request.workspace or require_workspace()
    request = _with_workspace(request, space)
    with Register.for_workspace(space, request.register_url) as register:
        record = register.resolve_version(request.name, request.version)
        spec = _spec(register, request, space)
        model = _load(register, record, space, request.name, request.version)
    training = _training(request, spec, model)
    outcome = MitigationOutcome()
    outcome.rows.append(_original_row(request, spec))
    started = time.perf_counter()
    for number, method in enumerate(dict.fromkeys(request.methods)):
        if number and time.perf_counter() - started > request.budget_seconds:
            outcome.notes.append(
                f"The time budget of {request.budget_seconds:g} s ran out before the method {method}; run it alone."
            )
            continue
        say(f"Building the {method} candidate ...")
        candidate = _build(method, model, training, spec, request)
        outcome.rows.append(_register_and_audit(request, spec, candidate, space, say))
    outcome.notes += _unmet(outcome.rows)
    from governance.mitigate.compare import write_comparison

    outcome.folder = write_comparison(request, outcome, space)
    _record_run(request, outcome, space)
    return outcome


def _record_run(request: MitigationRequest, outcome: MitigationOutcome, space: Workspace) -> None:
    """Record the run in the register: its comparison files' hashes (the site publishes only those) and its
    candidates, which an approval of one of them names as the alternatives it was chosen over."""
    from governance.provenance import resolve_actor
    from governance.register import Register
    from governance.register.mitigation import COMPARISON_FILE, record_mitigation

    assert outcome.folder is not None
    candidates = [
        {"version": row.version, "method": row.method, "verdict": row.verdict, "audit_id": row.audit_id}
        for row in outcome.rows
    ]
    with Register.for_workspace(space, request.register_url) as register:
        record_mitigation(
            register,
            request.name,
            request.version,
            comparison=outcome.folder / COMPARISON_FILE,
            candidates=candidates,
            actor=resolve_actor(request.actor),
        )


def best_candidate(rows: Sequence[ComparisonRow]) -> ComparisonRow | None:
    """The candidate a manager would look at first: the best verdict, then one that does not decide with a
    sensitive attribute, then the highest accuracy, then the deciding ratio nearest equality."""
    rank = {"passed": 0, "reported": 1, "inconclusive": 2, "failed": 3}

    def key(row: ComparisonRow) -> tuple[int, bool, float, float]:
        accuracy = row.accuracy.value if row.accuracy is not None and row.accuracy.value is not None else 0.0
        first = next(iter(row.ratios.values()), None)  # the policy's first rule with a number
        gap = abs(1 - first.value) if first is not None and first.value is not None else 1.0
        return (rank.get(row.verdict, 4), row.uses_sensitive_at_decision, -accuracy, gap)

    candidates = [row for row in rows[1:] if row.verdict in rank]
    return min(candidates, key=key, default=None)


def _with_workspace(request: MitigationRequest, space: Workspace) -> MitigationRequest:
    from dataclasses import replace

    return replace(request, workspace=space)


def _latest_audit(register: Register, name: str, version: str, root: Path) -> AuditResult | None:
    from governance.results.audit import AuditResult

    audits = [a for a in register.show(name).audits if a.version == version]
    if not audits:
        return None
    latest = max(audits, key=lambda a: (a.recorded_at, a.id))
    path = Path(latest.audit_json_path)
    path = path if path.is_absolute() else root / path
    try:
        return AuditResult.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(
            f"The latest audit of {name}@{version} ({latest.audit_json_path}) cannot be read ({type(error).__name__}); "
            "audit the version again, or give {target} and {sensitive}.",
            fields=["target", "sensitive"],
        ) from error


def _spec(register: Register, request: MitigationRequest, space: Workspace) -> Spec:
    """The audit specification: the latest recorded audit's, the pin's policy, and the request's own choices."""
    from governance.audit.spec import pinned_spec

    source = _latest_audit(register, request.name, request.version, space.root)
    target = request.target or (source.data.target if source else None)
    sensitive = list(request.sensitive) or (list(source.data.sensitive) if source else [])
    if not target or not sensitive:
        raise InputError(
            f"{request.name}@{request.version} has no recorded audit with labels to take the target and sensitive "
            "attributes from; audit it first, or give {target} and {sensitive}.",
            fields=["target", "sensitive"],
        )
    pin = pinned_spec(space, request.name)
    policy = (pin.policy if pin and pin.policy else None) or (
        source.policy.policy_name if source else "default"
    )
    explanation = source.explanation if source else None
    proxies = sorted({hit.feature for hit in explanation.likely_proxies}) if explanation else []
    return Spec(
        target=target,
        sensitive=sensitive,
        policy=policy,
        positive_label=source.fairness.positive_label if source else None,
        features=list(source.data.features) if source else [],
        proxies=proxies,
        source_audit=source,
    )


def _load(register: Register, record: Any, space: Workspace, name: str, version: str) -> Any:
    """The registered model, loaded under the same safety rules as an audit (pinned hash, vouching)."""
    from governance.intake.mlflow_models import is_mlflow_uri, load_any_model
    from governance.intake.model_files import Vouching

    vouching = Vouching(record.sha256, record.vouched_by, record.vouched_at) if record.vouched_by else None
    stored = record.artifact_path
    artefact = stored if is_mlflow_uri(stored) or Path(stored).is_absolute() else space.root / stored
    return load_any_model(artefact, pinned_sha256=record.sha256, vouching=vouching).estimator


def _training(request: MitigationRequest, spec: Spec, model: Any) -> Training:
    """The training rows: the model's inputs, the outcome as 1/0, the protected attribute's column."""
    import numpy as np

    from governance.intake.data import read_table, require_columns

    frame = read_table(request.data, field="data")
    features = [str(f) for f in getattr(model, "feature_names_in_", spec.features)]
    attribute = request.attribute or spec.sensitive[0]
    if attribute not in spec.sensitive:
        raise InputError(
            f"{{attribute}} {attribute} is not one of the audited sensitive attributes ({', '.join(spec.sensitive)}).",
            fields=["attribute"],
        )
    require_columns(frame, [*features, spec.target, attribute], source=Path(request.data).name, field="data")
    if frame[[spec.target, attribute]].isna().any().any():
        raise InputError(
            f"The training data has rows without {spec.target} or {attribute}; drop them before mitigating."
        )
    classes = list(getattr(model, "classes_", []))
    if len(classes) != 2:
        raise InputError("Mitigation is for yes/no models; this model does not have exactly two classes.")
    positive = _positive(classes, spec.positive_label)
    negative = next(c for c in classes if c != positive)
    y = (frame[spec.target].astype(str) == str(positive)).to_numpy().astype(int)
    if y.min() == y.max():
        raise InputError(f"Every training row has the same {spec.target}; mitigation needs both outcomes.")
    return Training(
        X=frame[features],
        y=np.asarray(y),
        sensitive=frame[attribute].astype(str).rename(attribute),
        seed=request.seed,
        classes=[negative, positive],
        features=features,
    )


def _positive(classes: list[Any], label: Any) -> Any:
    if label is None:
        return classes[-1]
    for value in classes:
        if str(value) == str(label):
            return value
    raise InputError(f"The positive label {label!r} is not one of the model's classes.")


def _build(method: str, model: Any, training: Training, spec: Spec, request: MitigationRequest) -> Candidate:
    from governance.mitigate import methods
    from governance.rules.load import load_policy

    assert request.workspace is not None
    policy = load_policy(spec.policy, workspace_root=request.workspace.root).policy
    constraint = request.constraint or methods.constraint_for(policy)
    direct = [f for f in training.features if f in spec.sensitive]
    drop = direct + [f for f in spec.proxies if f in training.features and f not in direct]
    if method == "threshold":
        return methods.threshold_candidate(model, training, constraint)
    if method == "drop-sensitive":
        return methods.drop_candidate(model, training, drop)
    return methods.inprocessing_candidate(model, training, method, constraint, direct)


def _save(estimator: Any, space: Workspace, name: str, label: str) -> Path:
    """Save with skops under ``models/``: written beside, then renamed, so no half-written file is left."""
    from governance.intake.model_files import save_model
    from governance.paths import safe_join

    path = safe_join(space.root / "models", f"{name}-{label}.skops")
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as partial:
        save_model(estimator, partial)
    return path


def _register_and_audit(
    request: MitigationRequest, spec: Spec, candidate: Candidate, space: Workspace, say: Echo
) -> ComparisonRow:
    """Save the candidate, register it with its lineage, and audit it on the holdout through the register."""
    from governance.audit.registered import audit_registered
    from governance.provenance import resolve_actor, sha256_file
    from governance.register import Register

    label = f"{request.version}-{candidate.method}"
    path = _save(candidate.estimator, space, request.name, label)
    lineage = {
        "mitigated_from": f"{request.name}@{request.version}",
        "method": candidate.method,
        "constraint": candidate.constraint,
        "parameters": _plain(candidate.parameters),
        "seed": request.seed,
        "what_it_does": candidate.what_it_does,
        "uses_sensitive_at_decision": candidate.uses_sensitive_at_decision,
    }
    with Register.for_workspace(space, request.register_url) as register:
        twin = _same_file(register, request.name, sha256_file(path), label)
        if twin is not None:
            path.unlink()  # the same model as a candidate already registered: compare that one
            say(f"The {candidate.method} candidate is the same model as {request.name}@{twin}.")
            return _twin_row(register, request, space, twin, candidate)
        register.add_version(
            request.name,
            label,
            artifact_path=path,
            actor=resolve_actor(request.actor),
            framework="fairlearn mitigation",
            training_data_description=f"{Path(request.data).name}: mitigated from {request.name}@{request.version} "
            f"with {candidate.method}",
            training_data_sha256=sha256_file(Path(request.data)),
            lineage=lineage,
        )
    say(f"Auditing {request.name}@{label} ...")
    outcome = audit_registered(
        _audit_request(request, spec, space, label),
        register_url=request.register_url,
        actor=request.actor,
    )
    return row_of(outcome.result, candidate.method, candidate.what_it_does, candidate, label)


# What a candidate's audit takes from the version's audit specification, and from the mitigation's own options
SPEC_FIELDS = ("target", "sensitive", "positive_label", "policy")
FORWARDED = ("seed", "explain", "explain_budget", "n_boot", "command_line", "reproducible_id")


def _audit_request(request: MitigationRequest, spec: Spec, space: Workspace, label: str) -> AuditRequest:
    """A candidate's audit: on the holdout, with the version's audit specification and the request's options."""
    from governance.audit.run import AuditRequest

    return AuditRequest(
        name=request.name,
        version=label,
        data=request.holdout,
        workspace=space,
        **{name: getattr(spec, name) for name in SPEC_FIELDS},
        **{name: getattr(request, name) for name in FORWARDED},
    )


def _same_file(register: Register, name: str, sha256: str, label: str) -> str | None:
    """Another version of ``name`` with this very file (two methods can arrive at the same model)."""
    for version in register.show(name).versions:
        if version.sha256 == sha256 and version.version != label:
            return version.version
    return None


def _twin_row(
    register: Register, request: MitigationRequest, space: Workspace, twin: str, candidate: Candidate
) -> ComparisonRow:
    """The row of a candidate identical to an already registered version: that version's latest audit."""
    from dataclasses import replace

    result = _latest_audit(register, request.name, twin, space.root)
    words = f"The same model as {twin}. {candidate.what_it_does}"
    if result is None:
        return ComparisonRow(twin, candidate.method, "not audited", None, {}, words, False)
    return replace(row_of(result, candidate.method, words, candidate, twin))


def _plain(value: Any) -> Any:
    """JSON-friendly parameters (numbers, strings, lists, dicts)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return str(value)
    return value


def _original_row(request: MitigationRequest, spec: Spec) -> ComparisonRow:
    source = spec.source_audit
    words = "The version as registered, unchanged."
    if source is None:
        return ComparisonRow(request.version, "original", "not audited", None, {}, words, False)
    uses = bool(source.model.sensitive_inputs)
    if uses:
        words += f" Takes {', '.join(source.model.sensitive_inputs)} as an input."
    return row_of(source, "original", words, None, request.version, uses=uses)


def row_of(
    result: AuditResult,
    method: str,
    words: str,
    candidate: Candidate | None,
    version: str,
    *,
    uses: bool | None = None,
) -> ComparisonRow:
    """A comparison row from an audit result: verdict, accuracy, each metric rule's deciding number."""
    ratios = {}
    for outcome in result.policy.rules:
        deciding = _deciding(outcome)
        if deciding is not None:
            ratios[outcome.rule_id] = deciding
    return ComparisonRow(
        version=version,
        method=method,
        verdict=result.policy.verdict,
        accuracy=result.fairness.overall.get("accuracy"),
        ratios=ratios,
        what_it_does=words,
        uses_sensitive_at_decision=candidate.uses_sensitive_at_decision if candidate else bool(uses),
        audit_id=result.audit_id,
        constraint=candidate.constraint if candidate else None,
    )


def _deciding(outcome: Any) -> Any:
    """The finding that decides a rule: the worst status, then the furthest from the bound."""
    findings = [f for f in outcome.findings if f.estimate.value is not None]
    if not findings:
        return None
    rank = {"fail": 0, "inconclusive": 1, "pass": 2, "not_applicable": 3}
    upward = outcome.bound.strip().startswith(">")
    worst = min(findings, key=lambda f: (rank[f.status], f.estimate.value if upward else -f.estimate.value))
    return worst.estimate


def _unmet(rows: list[ComparisonRow]) -> list[str]:
    """Say plainly which candidates still fail, with the best they achieved."""
    notes = []
    for row in rows[1:]:
        if row.verdict == "failed":
            achieved = "; ".join(f"{rule} {value.value:.2f}" for rule, value in row.ratios.items())
            notes.append(
                f"{row.version} ({row.method}, {row.constraint or 'no constraint'}) does not meet the policy on the "
                f"holdout; best achieved: {achieved}."
            )
    if rows[1:] and not any(row.verdict == "passed" for row in rows[1:]):
        undecided = [row.version for row in rows[1:] if row.verdict == "inconclusive"]
        if undecided:
            # The comparison is written for the command line's readers (and kept in the golden audits): the one
            # table of options words the option.
            notes.append(
                f"No candidate passes yet: {', '.join(undecided)} ended inconclusive (a group too small to judge, or "
                f"a blocking rule not checked, for example the explanation skipped with {option_of('no_explain')}); see each "
                "candidate's audit report."
            )
        else:
            notes.append(
                "No candidate passes the policy: the constraint could not be met on this data; the table shows the "
                "best each method achieved. Consider other data, other features, or another kind of model."
            )
    return notes
