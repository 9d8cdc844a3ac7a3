"""One audit specification per model: what ``governance.yaml`` pins, and how an audit departs from it.

A data scientist could otherwise turn a failed or inconclusive version into a passing one by choosing an easier
audit (a lenient policy, one sensitive attribute fewer, ``--no-explain``, a tiny holdout). The pin lives in the
workspace's ``governance.yaml``, under version control, next to the model card fields::

    models:
      credit-risk:
        audit_spec:
          policy: default            # a preset name, or a policy file relative to the workspace
          sensitive: [sex, age_band]
          require_explanations: true
          min_holdout_rows: 300

Every key is optional. An audit that departs from the pin is refused unless ``--override REASON`` is given; the
reason and the departures are then kept in ``audit.json`` and with the audit's register event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import FieldError, InputError
from governance.results.audit import AuditOverride
from governance.rules.load import LoadedPolicy, load_policy
from governance.workspace import Workspace

SPEC_KEY = "audit_spec"
_KEYS = ("policy", "sensitive", "require_explanations", "min_holdout_rows")


@dataclass(frozen=True)
class AuditSpec:
    """The pinned audit specification of one model (``None``: that part is not pinned)."""

    model: str
    policy: str | None = None
    sensitive: tuple[str, ...] | None = None
    require_explanations: bool = False
    min_holdout_rows: int | None = None


@dataclass(frozen=True)
class AuditShape:
    """What this audit is, as far as a pin can say: compared against the pin field by field."""

    policy: LoadedPolicy
    policy_arg: str  # as the user wrote it (a preset name or a path)
    sensitive: Sequence[str]
    explain: bool
    has_model: bool
    n_rows: int


@dataclass(frozen=True)
class Departure:
    """One way an audit differs from the pin: what differs, and how to audit as pinned instead."""

    what: str
    fix: str


def pinned_spec(workspace: Workspace, name: str) -> AuditSpec | None:
    """The pin for model ``name`` in ``governance.yaml``, or ``None``; a malformed pin is an input error."""
    models = workspace.config.get("models") or {}
    entry = models.get(name) if isinstance(models, dict) else None
    raw = entry.get(SPEC_KEY) if isinstance(entry, dict) else None
    if raw is None:
        return None
    where = f"governance.yaml: models.{name}.{SPEC_KEY}"
    if not isinstance(raw, dict):
        raise InputError(f"{where} must be a mapping with any of {', '.join(_KEYS)}.")
    unknown = sorted(str(key) for key in raw if key not in _KEYS)
    if unknown:
        raise InputError(
            f"{where} has an unknown key '{unknown[0]}'; use {', '.join(_KEYS[:-1])} or {_KEYS[-1]}."
        )
    return AuditSpec(
        model=name,
        policy=_text(raw.get("policy"), f"{where}.policy"),
        sensitive=_columns(raw.get("sensitive"), f"{where}.sensitive"),
        require_explanations=_flag(raw.get("require_explanations", False), f"{where}.require_explanations"),
        min_holdout_rows=_rows(raw.get("min_holdout_rows"), f"{where}.min_holdout_rows"),
    )


def _text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where} must be a preset name or a policy file, not {value!r}.")
    return value.strip()


def _columns(value: Any, where: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(item, str) and item.strip() for item in items)
    ):
        raise InputError(
            f"{where} must be a list of column names, for example [sex, age_band], not {value!r}."
        )
    return tuple(item.strip() for item in items)


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"{where} must be true or false, not {value!r}.")
    return value


def _rows(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{where} must be a whole number of at least 1, not {value!r}.")
    return value


def _pinned_policy(spec: AuditSpec, workspace: Workspace) -> LoadedPolicy:
    """The pinned policy: a preset name, or a file path relative to the workspace."""
    assert spec.policy is not None
    name = spec.policy
    path = Path(name)
    if not path.is_absolute() and (path.suffix in {".yaml", ".yml"} or "/" in name):
        name = str(workspace.root / path)
    try:
        return load_policy(name, workspace_root=workspace.root)
    except InputError as error:
        raise InputError(
            f"governance.yaml: models.{spec.model}.{SPEC_KEY}.policy names '{spec.policy}', which cannot be loaded: "
            f"{error}"
        ) from error


DEPARTURE_FIELDS = {
    "policy": "policy",
    "sensitive": "sensitive",
    "predictions": "predictions",
    "no_explain": "explain=False",
    "override": "override",
}
"""The fields the departures' fixes name, as the library calls them (the command line says its options)."""


def departures(spec: AuditSpec, workspace: Workspace, audit: AuditShape) -> list[Departure]:
    """Every way this audit differs from the pin, in a fixed order (policy, attributes, explanations, rows)."""
    found: list[Departure] = []
    if spec.policy is not None and _pinned_policy(spec, workspace).sha256 != audit.policy.sha256:
        found.append(
            Departure(
                f"it uses the policy '{audit.policy_arg}', not the pinned '{spec.policy}'",
                f"pass {{policy}} {spec.policy}",
            )
        )
    if spec.sensitive is not None:
        given = list(dict.fromkeys(audit.sensitive))
        for column in (c for c in spec.sensitive if c not in given):
            found.append(
                Departure(
                    f"it leaves out the pinned sensitive attribute '{column}'", f"add {{sensitive}} {column}"
                )
            )
        for column in (c for c in given if c not in spec.sensitive):
            found.append(
                Departure(
                    f"it adds the sensitive attribute '{column}', which is not pinned",
                    f"leave out {{sensitive}} {column}",
                )
            )
    if spec.require_explanations and not audit.has_model:
        found.append(
            Departure(
                "it has saved predictions but no model to explain, and explanations are required",
                "audit the model file instead of {predictions}",
            )
        )
    elif spec.require_explanations and not audit.explain:
        found.append(Departure("it skips the explanations, which are required", "leave out {no_explain}"))
    if spec.min_holdout_rows is not None and audit.n_rows < spec.min_holdout_rows:
        found.append(
            Departure(
                f"its holdout has {audit.n_rows} rows, fewer than the pinned minimum of {spec.min_holdout_rows}",
                "use a larger holdout",
            )
        )
    return found


def enforce_spec(
    workspace: Workspace, *, name: str, override: str | None, audit: AuditShape
) -> AuditOverride | None:
    """Refuse an audit that departs from the model's pin, unless overridden; the override to record, or ``None``."""
    if override is not None and not override.strip():
        raise FieldError(
            "override",
            "{field} needs a reason: say in a sentence why this audit departs from the pinned audit specification.",
        )
    spec = pinned_spec(workspace, name)
    found = [] if spec is None else departures(spec, workspace, audit)
    if not found:
        if override is not None:
            why = (
                "no audit specification is pinned"
                if spec is None
                else "this audit follows the audit specification pinned"
            )
            raise FieldError(
                "override", f"{{field}} is not needed: {why} for {name} in governance.yaml; leave it out."
            )
        return None
    if override is None:
        listed = "; ".join(f"{d.what} ({d.fix})" for d in found)
        raise InputError(
            f"This audit of {name} departs from the audit specification pinned in governance.yaml: {listed}; audit as "
            "pinned, or pass {override} REASON to run it anyway with the reason on record.",
            fields=DEPARTURE_FIELDS,
        )
    return AuditOverride(reason=override.strip(), departures=[d.what for d in found])
