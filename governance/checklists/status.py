"""Where a model stands against the checklists: met, not met, needs a person's answer, or not applicable.

The rules, decided here and relied on by the command line and the site:

1. **Scope first.** Each item's ``applies_when`` conditions are checked against the model's register fields
   (``is_annex_iii_high_risk``, ``is_aedt``, ``solely_automated``, ``decision_domain``). All conditions must
   hold. A condition the register says is false makes the item *not applicable*. A condition the register
   has not answered (``None``) counts as holding: an unknown scope keeps the duty open, and the reason says
   which field to set.
2. **A person's "not applicable" wins** for any item (scope is a human call), and is shown with who said it.
3. **Human items are never ticked automatically.** They are *met* only by a "yes" answer; "no" and "partial"
   leave them *not met*; without an answer they *need an answer*.
4. **Audit items** are *met* only when every named ``audit.json`` field exists (non-empty) in the latest
   audit, the audit is younger than the item's ``max_age_days`` if it has one, and the audit's verdict is
   ``passed`` or every policy rule named in the item's ``rules`` passed (a rule the audit could not check never
   passed; a ``reported`` audit, whose policy has no pass mark, counts only through such rules). A passing audit for a different
   purpose cannot stand in for a missing field, and a "yes" answer cannot replace the evidence.
5. **Register items** are *met* when every named field of the model's register record is present and
   non-empty (for example at least one approval).
6. **Monitoring items** (post-market monitoring) are *met* when every deployed version has a recorded
   ``governance monitor`` run younger than the item's ``max_age_days`` (default 31) and no open alert: an alert
   stays open until the version is audited again after the run that raised it, in the history's order (the
   register's rule, :func:`governance.register.records.open_alert_runs`).
7. For automatic items a person's "no" or "partial" answer overrides the evidence to *not met*: someone who
   knows better has said the duty is not done.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel

from governance.checklists.schema import Checklist, ChecklistItem, EvidenceType
from governance.provenance import isoformat, now
from governance.register.records import newest_answers, open_alert_runs
from governance.results.common import Frozen

ItemState = Literal["met", "not_met", "needs_answer", "not_applicable"]
Origin = Literal["audit", "register", "monitoring", "answer", "scope", "none"]
STATES: tuple[ItemState, ...] = ("met", "not_met", "needs_answer", "not_applicable")
ANSWER_STATUSES = ("yes", "no", "partial", "not_applicable")

#: Plain words for each state, used by the command line and the site.
STATE_LABELS: dict[str, str] = {
    "met": "met",
    "not_met": "open",
    "needs_answer": "needs a human answer",
    "not_applicable": "not applicable",
}

EMPLOYMENT_DOMAINS = frozenset({"employment", "hiring", "recruitment", "hr", "promotion", "workforce"})


class AnswerInfo(Frozen):
    """A person's latest answer to one item, as stored in the register."""

    status: str
    evidence: str
    actor: str
    created_at: str | None = None


class ItemStatus(Frozen):
    """One item's state, why, and where the evidence came from."""

    framework: str
    item_id: str
    title: str
    source: str
    evidence_type: EvidenceType
    state: ItemState
    origin: Origin
    reason: str  # one plain sentence
    # e.g. "audit.json fairness.attributes[].ll144 (audit a1b2)" or "register: approvals"
    pointer: str | None = None
    answer: AnswerInfo | None = None
    scope_unknown: list[str] = []  # register fields not answered that decide whether the item applies


class FrameworkStatus(Frozen):
    """One framework's items and their counts."""

    framework: str
    title: str
    items: list[ItemStatus]
    counts: dict[str, int]


class ChecklistStatus(Frozen):
    """A model's standing against every framework, with the audit it was judged on."""

    model_name: str | None
    audit_id: str | None
    audit_verdict: str | None
    evaluated_at: str
    frameworks: list[FrameworkStatus]
    counts: dict[str, int]
    unknown_answers: list[str] = []  # answers to item ids no checklist has (e.g. after an item was renamed)
    scope_unknown: list[str] = []  # register fields still unanswered that decide whether items apply

    def framework(self, framework: str) -> FrameworkStatus | None:
        """The status of one framework, or ``None``."""
        return next((entry for entry in self.frameworks if entry.framework == framework), None)

    def item(self, item_id: str) -> ItemStatus | None:
        """The status of one item, or ``None``."""
        return next((i for f in self.frameworks for i in f.items if i.item_id == item_id), None)


def _as_dict(value: Any) -> dict[str, Any]:
    """A plain dict from a dict, a pydantic model or a dataclass (register records come in any of these)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "__dict__"):
        return {key: item for key, item in vars(value).items() if not key.startswith("_")}
    raise TypeError(f"cannot read fields from a {type(value).__name__}")


def _flatten_model(model: Any) -> dict[str, Any]:
    """The model's fields at the top level, even when a register detail nests them under ``model``."""
    fields = _as_dict(model)
    nested = fields.get("model")
    if isinstance(nested, Mapping | BaseModel) or dataclasses.is_dataclass(nested):
        return {**_as_dict(nested), **{k: v for k, v in fields.items() if k != "model"}}
    return fields


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str | list | tuple | dict | set):
        return len(value) > 0
    return True


def field_values(document: Any, path: str) -> list[Any]:
    """Every value at ``path`` in a JSON-like document; ``a[].b`` looks at ``b`` in each element of ``a``."""
    current: list[Any] = [document]
    for part in path.split("."):
        each = part.endswith("[]")
        key = part[:-2] if each else part
        following: list[Any] = []
        for node in current:
            if isinstance(node, Mapping) and key in node:
                value = node[key]
                if each:
                    if isinstance(value, list):
                        following.extend(value)
                else:
                    following.append(value)
        current = following
    return current


def field_present(document: Any, path: str) -> bool:
    """True when at least one value at ``path`` exists and is not empty."""
    return any(_present(value) for value in field_values(document, path))


def _condition(condition: str, model: Mapping[str, Any]) -> tuple[bool | None, str]:
    """Whether one scope condition holds for the model: True, False, or None (not answered in the register)."""
    if condition == "always":
        return True, ""
    if condition in {"annex_iii_high_risk", "aedt", "solely_automated"}:
        field = {"annex_iii_high_risk": "is_annex_iii_high_risk", "aedt": "is_aedt"}.get(condition, condition)
        value = model.get(field)
        return (None if value is None else bool(value)), field
    if condition == "employment":
        domain = model.get("decision_domain")
        if domain:
            return str(domain).strip().lower() in EMPLOYMENT_DOMAINS, "decision_domain"
        if model.get("is_aedt") is True:
            return True, "is_aedt"
        return None, "decision_domain"
    return None, condition


def _scope(item: ChecklistItem, model: Mapping[str, Any]) -> tuple[bool, list[str]]:
    """(applies, names of register fields still unanswered); an item applies unless a condition is false."""
    unknown: list[str] = []
    for condition in item.applies_when:
        holds, field = _condition(condition, model)
        if holds is False:
            return False, [field]
        if holds is None:
            unknown.append(field)
    return True, unknown


def _latest_answers(answers: Iterable[Any]) -> dict[str, AnswerInfo]:
    """The answer that counts per item id (the register's one rule: ``newest_answers``)."""
    latest: dict[str, AnswerInfo] = {}
    for raw in newest_answers(answers, _as_dict):
        fields = _as_dict(raw)
        created = fields.get("created_at") or fields.get("at")
        created_text = (
            created.isoformat() if isinstance(created, datetime) else (str(created) if created else "")
        )
        latest[str(fields.get("item_id", ""))] = AnswerInfo(
            status=str(fields.get("status", "")),
            evidence=str(fields.get("evidence") or ""),
            actor=str(fields.get("actor") or ""),
            created_at=created_text or None,
        )
    return latest


def _audit_age_days(audit: Mapping[str, Any]) -> float | None:
    created = (audit.get("provenance") or {}).get("created_at")
    if not created:
        return None
    try:
        moment = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (now() - moment).total_seconds() / 86400.0


def _rules_passed(audit: Mapping[str, Any], names: Sequence[str]) -> bool:
    """True when at least one rule matches ``names`` (by rule id or metric) and every matching rule passed."""
    rules = [rule for rule in (audit.get("policy") or {}).get("rules") or [] if isinstance(rule, Mapping)]
    matching = [rule for rule in rules if rule.get("rule_id") in names or rule.get("metric") in names]
    return bool(matching) and all(rule.get("status") == "pass" for rule in matching)


def _audit_item(
    item: ChecklistItem, audit: Mapping[str, Any] | None, audit_id: str | None
) -> tuple[ItemState, str, str]:
    fields = item.evidence.fields
    pointer = "audit.json " + ", ".join(fields)
    if audit is None:
        return "not_met", "There is no audit of this model yet; run governance audit on it.", pointer
    pointer += f" (audit {audit_id})" if audit_id else ""
    missing = [path for path in fields if not field_present(audit, path)]
    if missing:
        return (
            "not_met",
            f"The latest audit has no {', '.join(missing)}; run an audit that produces it.",
            pointer,
        )
    max_age = item.evidence.max_age_days
    if max_age is not None:
        age = _audit_age_days(audit)
        if age is None or age > max_age:
            shown = "an unknown age" if age is None else f"{age:.0f} days old"
            return (
                "not_met",
                f"The latest audit is {shown}, older than the {max_age} days allowed; re-audit.",
                pointer,
            )
    verdict = (audit.get("policy") or {}).get("verdict")
    if verdict == "passed":
        return "met", "The latest audit holds this evidence and passed its policy.", pointer
    if item.evidence.rules and _rules_passed(audit, item.evidence.rules):
        rules = ", ".join(item.evidence.rules)
        return "met", f"The latest audit holds this evidence and its rules for it ({rules}) passed.", pointer
    if verdict == "reported":
        return (
            "not_met",
            "The latest audit holds this evidence, but its policy sets no pass mark (verdict reported); "
            "audit the model against a policy with blocking rules.",
            pointer,
        )
    shown = verdict or "no verdict"
    return (
        "not_met",
        f"The latest audit holds this evidence but its verdict is {shown}; fix and re-audit.",
        pointer,
    )


def _register_item(item: ChecklistItem, model: Mapping[str, Any]) -> tuple[ItemState, str, str]:
    fields = item.evidence.fields
    pointer = "register: " + ", ".join(fields)
    missing = [path for path in fields if not field_present(model, path)]
    if missing:
        return "not_met", f"The register has no {', '.join(missing)} for this model yet.", pointer
    return "met", "The register holds this record for the model.", pointer


MONITORING_WINDOW_DAYS = 31  # a monitoring item's window when the checklist sets none: a monthly run


class _Run(NamedTuple):
    """A recorded monitoring run, as the register's history holds it."""

    version: str
    seq: int
    recorded_at: str
    alerts: int


def _rows_of(
    model: Mapping[str, Any], kind: str, table: str
) -> Iterable[tuple[dict[str, Any], Mapping[str, Any]]]:
    """(event, row after-image) of each ``kind`` event's row of ``table``, from the register's history."""
    for event in model.get("events") or []:
        event = _as_dict(event)
        if event.get("kind") != kind or not isinstance(event.get("payload"), Mapping):
            continue
        for row in event["payload"].get("rows") or []:
            if isinstance(row, Mapping) and row.get("table") == table:
                yield event, row.get("record") or {}


def _monitoring_runs(model: Mapping[str, Any]) -> list[_Run]:
    """Each recorded monitoring run, from the register's events."""
    return [
        _Run(
            str(event.get("version") or ""),
            int(event.get("seq") or 0),
            str(record.get("recorded_at") or event.get("at") or ""),
            int(record.get("n_alerts") or 0),
        )
        for event, record in _rows_of(model, "monitoring.recorded", "gov_monitoring_runs")
    ]


def _newest_audit_seqs(model: Mapping[str, Any]) -> dict[str, int]:
    """The event number of each version's newest recorded audit, from the register's events."""
    newest: dict[str, int] = {}
    for event, _record in _rows_of(model, "audit.recorded", "gov_audits"):
        version = str(event.get("version") or "")
        newest[version] = max(newest.get(version, 0), int(event.get("seq") or 0))
    return newest


def _age_days(moment: str) -> float | None:
    try:
        return (now() - datetime.fromisoformat(moment.replace("Z", "+00:00"))).total_seconds() / 86400.0
    except ValueError:
        return None


def _monitoring_item(item: ChecklistItem, model: Mapping[str, Any]) -> tuple[ItemState, str, str]:
    """Met when every deployed version has a recent monitoring run and none of its alerts is still open."""
    window = item.evidence.max_age_days or MONITORING_WINDOW_DAYS
    pointer = "register: monitoring runs"
    name = str(model.get("name") or "NAME")
    deployed = [
        str(v.get("version"))
        for v in map(_as_dict, model.get("versions") or [])
        if v.get("state") == "deployed"
    ]
    if not deployed:
        return (
            "not_met",
            "No version of this model is deployed, so no monitoring after go-live is recorded yet.",
            pointer,
        )
    runs = _monitoring_runs(model)
    audited = _newest_audit_seqs(model)
    reasons = []
    for version in deployed:
        label = f"{name}@{version}"
        own = sorted(run for run in runs if run.version == version)
        still_open = open_alert_runs(own, audited.get(version), lambda run: run.seq)
        open_alerts = sum(run.alerts for run in still_open)
        newest = max((run.recorded_at for run in own), default="")
        age = _age_days(newest) if own else None
        if not own:
            return (
                "not_met",
                f"{label} has no recorded monitoring run; run governance monitor {label} --data LOG "
                "--time-column TIME on its decision log.",
                pointer,
            )
        if age is None or age > window:
            return (
                "not_met",
                f"The newest monitoring run of {label} ({newest[:10]}) is older than the {window} days "
                f"allowed; run governance monitor {label} on the latest decisions.",
                pointer,
            )
        if open_alerts:
            return (
                "not_met",
                f"{label} has {open_alerts} open monitoring alert{'s' if open_alerts != 1 else ''}; read them "
                f"with governance monitor {label} --history, act on them and audit the version again.",
                pointer,
            )
        reasons.append(f"{label} on {newest[:10]}")
    return (
        "met",
        f"Monitored within the last {window} days with no open alert: {', '.join(reasons)}.",
        pointer,
    )


def _evaluate_item(
    item: ChecklistItem,
    *,
    model: Mapping[str, Any],
    answer: AnswerInfo | None,
    audit: Mapping[str, Any] | None,
    audit_id: str | None,
) -> ItemStatus:
    common: dict[str, Any] = {
        "framework": item.framework,
        "item_id": item.id,
        "title": item.title,
        "source": item.source,
        "evidence_type": item.evidence.type,
        "answer": answer,
    }
    applies, unknown = _scope(item, model)
    if not applies:
        field = unknown[0]
        reason = f"Does not apply: the register says {field} is {model.get(field)!s} for this model."
        return ItemStatus(
            **common, state="not_applicable", origin="scope", reason=reason, pointer=f"register: {field}"
        )
    common["scope_unknown"] = unknown
    if answer is not None and answer.status == "not_applicable":
        reason = f"{answer.actor or 'Someone'} answered not applicable: {answer.evidence}"
        return ItemStatus(**common, state="not_applicable", origin="answer", reason=reason)
    if item.evidence.type == "human":
        if answer is None:
            reason = "Needs a person's answer (governance checklist answer)."
            return ItemStatus(**common, state="needs_answer", origin="none", reason=reason)
        if answer.status == "yes":
            return ItemStatus(
                **common, state="met", origin="answer", reason=f"Answered yes: {answer.evidence}"
            )
        return ItemStatus(
            **common,
            state="not_met",
            origin="answer",
            reason=f"Answered {answer.status}: {answer.evidence}",
        )
    if answer is not None and answer.status in {"no", "partial"}:
        return ItemStatus(
            **common,
            state="not_met",
            origin="answer",
            reason=f"Answered {answer.status}: {answer.evidence}",
        )
    origin: Origin
    if item.evidence.type == "audit":
        state, reason, pointer = _audit_item(item, audit, audit_id)
        origin = "audit"
    elif item.evidence.type == "monitoring":
        state, reason, pointer = _monitoring_item(item, model)
        origin = "monitoring"
    else:
        state, reason, pointer = _register_item(item, model)
        origin = "register"
    return ItemStatus(**common, state=state, origin=origin, reason=reason, pointer=pointer)


def _counts(items: Iterable[ItemStatus]) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATES, 0)
    for entry in items:
        counts[entry.state] += 1
    return counts


def evaluate_status(
    checklists: Sequence[Checklist],
    *,
    model: Any,
    answers: Iterable[Any],
    latest_audit: Any | None,
    model_name: str | None = None,
) -> ChecklistStatus:
    """Judge a model against ``checklists`` (rules in the module docstring).

    ``model``: the register's fields for the model (a dict, or the register's detail record; nested
    ``model`` fields are lifted), including ``versions``, ``audits``, ``approvals`` and ``events`` for
    register-evidenced items. ``answers``: the register's checklist answers (``framework``, ``item_id``,
    ``status``, ``evidence``, ``actor``, ``created_at`` or ``at``). ``latest_audit``: an ``AuditResult``, its JSON as a
    dict, or ``None``.
    """
    fields = _flatten_model(model)
    audit = _as_dict(latest_audit) if latest_audit is not None else None
    audit_id = str(audit.get("audit_id")) if audit and audit.get("audit_id") else None
    latest = _latest_answers(answers)
    known_ids = {item.id for checklist in checklists for item in checklist.items}
    frameworks = []
    for checklist in checklists:
        items = [
            _evaluate_item(item, model=fields, answer=latest.get(item.id), audit=audit, audit_id=audit_id)
            for item in checklist.items
        ]
        frameworks.append(
            FrameworkStatus(
                framework=checklist.framework, title=checklist.title, items=items, counts=_counts(items)
            )
        )
    every_item = [entry for framework in frameworks for entry in framework.items]
    verdict = (audit.get("policy") or {}).get("verdict") if audit else None

    return ChecklistStatus(
        model_name=model_name or (str(fields["name"]) if fields.get("name") else None),
        audit_id=audit_id,
        audit_verdict=str(verdict) if verdict else None,
        evaluated_at=isoformat(now()),
        frameworks=frameworks,
        counts=_counts(every_item),
        unknown_answers=sorted(item_id for item_id in latest if item_id not in known_ids),
        scope_unknown=sorted({field for entry in every_item for field in entry.scope_unknown}),
    )
