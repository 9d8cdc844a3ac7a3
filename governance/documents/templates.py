"""Policy templates: Markdown with front matter, filled from ``governance.yaml``.

A template is ``policies/templates/<id>.md``: YAML front matter (``id``, ``title``, ``owner`` as a role key,
``version``, ``review_interval_months``, ``checklist_items``) between ``---`` lines, then a Jinja2 body.
Jinja runs sandboxed, with ``StrictUndefined`` (a misspelt variable is an error, not a blank) and without
autoescaping, because the output is Markdown; instead every value from the configuration is escaped for
Markdown and HTML here, before the template sees it (:func:`policy_context`).

The variables, and the defaults that let a fresh workspace render, are in :data:`DEFAULTS`. They are read
from ``governance.yaml``::

    organisation:
      name: Example Lending Ltd
      contacts:                      # each a {name, email} mapping or a plain string; the flat keys
                                     # ai_lead, risk_officer, data_protection_officer and contact_email
                                     # that `governance init` writes are read too
        ai_governance_lead: {name: Ana Silva, email: ana@example.com}
        risk_officer: {name: Ben Okafor, email: ben@example.com}
        dpo: {name: Chloe Martin, email: dpo@example.com}
        incident_contact: {name: AI incident desk, email: ai-incidents@example.com}
    policies:
      effective_date: 2027-01-01     # a date; the review date is this plus the review interval
      review_interval_months: 12     # overrides every template's own interval
      approved_by: the board of directors
      owners: {ai-incident-response: Ben Okafor}      # a person per policy id (default: the role's contact)
      review_dates: {ai-use-and-ethics: 2027-06-30}   # a fixed next review date per policy id
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from governance.errors import PolicyError
from governance.escaping import markdown_text
from governance.yamlload import at_line, load_yaml, read_utf8, yaml_error_line

#: Every template variable's default: a fresh workspace renders with these and says what to fill in.
DEFAULTS: dict[str, Any] = {
    "organisation": {
        "name": "Your organisation",
        "contacts": {
            "ai_governance_lead": {"name": "not yet named", "email": ""},
            "risk_officer": {"name": "not yet named", "email": ""},
            "dpo": {"name": "not yet named", "email": ""},
            "incident_contact": {"name": "not yet named", "email": ""},
        },
    },
    "policies": {
        "effective_date": "the date of adoption (not yet set)",
        "review_interval_months": None,  # None: each template's own interval
        "approved_by": "senior management",
        "owners": {},
        "review_dates": {},
    },
}

#: The roles a template's ``owner`` may name, with how they are written on the page.
ROLES: dict[str, str] = {
    "ai_governance_lead": "AI governance lead",
    "risk_officer": "Risk officer",
    "dpo": "Data protection officer",
    "incident_contact": "AI incident contact",
}

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*\r?\n(.*)\Z", re.DOTALL)
_REQUIRED = ("id", "title", "owner", "version", "review_interval_months", "checklist_items")


@dataclass(frozen=True)
class PolicyTemplate:
    """One policy template: its front matter and its Jinja2 Markdown body."""

    id: str
    title: str
    owner: str  # a key of ROLES
    version: str
    review_interval_months: int
    checklist_items: tuple[str, ...]
    body: str
    path: str | None = None
    summary: str = ""
    body_line: int = 1  # the file's line number of the body's first line, for errors that name a line

    @property
    def owner_role(self) -> str:
        """The owner's role as written on the page, e.g. ``Risk officer``."""
        return ROLES[self.owner]


def parse_policy_template(text: str, *, name: str = "<template>") -> PolicyTemplate:
    """A template from its text; ``PolicyError`` naming the template when the front matter is wrong."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        raise PolicyError(
            f"Policy template {name} has no front matter; start it with a --- block holding id and title."
        )
    try:
        meta = load_yaml(match.group(1), source=f"Policy template {name}", line_offset=1) or {}
    except yaml.YAMLError as exc:
        where = at_line(yaml_error_line(exc, line_offset=1))
        raise PolicyError(
            f"Policy template {name} has invalid front matter{where}; fix the YAML between the --- lines."
        ) from exc
    if not isinstance(meta, dict):
        raise PolicyError(f"Policy template {name}: the front matter must be a mapping of key: value lines.")
    missing = [key for key in _REQUIRED if key not in meta]
    if missing:
        raise PolicyError(f"Policy template {name}: the front matter lacks {', '.join(missing)}; add it.")
    unknown = sorted(set(meta) - {*_REQUIRED, "summary"})
    if unknown:
        raise PolicyError(
            f"Policy template {name}: unknown front-matter key(s) {', '.join(unknown)}; remove them."
        )
    if meta["owner"] not in ROLES:
        raise PolicyError(
            f"Policy template {name}: owner {meta['owner']!r} is not one of {', '.join(ROLES)}."
        )
    items = meta["checklist_items"]
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise PolicyError(f"Policy template {name}: checklist_items must be a list of checklist item ids.")
    interval = meta["review_interval_months"]
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise PolicyError(
            f"Policy template {name}: review_interval_months must be a whole number of months, 1 or more."
        )
    return PolicyTemplate(
        id=str(meta["id"]),
        title=str(meta["title"]),
        owner=str(meta["owner"]),
        version=str(meta["version"]),
        review_interval_months=interval,
        checklist_items=tuple(items),
        body=match.group(2),
        path=None if name == "<template>" else name,
        summary=str(meta.get("summary") or ""),
        body_line=text.count("\n", 0, match.start(2)) + 1,
    )


def load_policy_template(path: str | Path) -> PolicyTemplate:
    """One template file."""
    path = Path(path)
    text = read_utf8(
        path,
        error=PolicyError,
        unreadable="Cannot read the policy template {path} ({reason}); check the path.",
    )
    return parse_policy_template(text, name=str(path))


def load_policy_templates(folder: str | Path) -> list[PolicyTemplate]:
    """Every ``*.md`` template in ``folder``, sorted by id; ids must be unique."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PolicyError(
            f"The policy template folder {folder} does not exist; create it with {{init_here}}.",
            actions={"init_here": "governance.scaffold.init_workspace('.')"},
        )
    templates = [load_policy_template(path) for path in sorted(folder.glob("*.md"))]
    seen: dict[str, str] = {}
    for template in templates:
        if template.id in seen:
            raise PolicyError(
                f"Policy templates {seen[template.id]} and {template.path} share the id {template.id!r}."
            )
        seen[template.id] = template.path or template.id
    return sorted(templates, key=lambda template: template.id)


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif value is not None:
            merged[key] = value
    return merged


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _contact(value: Any, role: str) -> dict[str, str]:
    """A contact's raw name, email and ``Name (email)`` form."""
    if isinstance(value, Mapping):
        name = str(value.get("name") or DEFAULTS["organisation"]["contacts"][role]["name"])
        email = str(value.get("email") or "")
    else:
        name, email = str(value), ""
    return {"name": name, "email": email, "contact": f"{name} ({email})" if email else name}


#: Flat keys that ``governance init`` writes under ``organisation:``, read when ``contacts`` lacks the role.
FLAT_CONTACT_KEYS: dict[str, tuple[str, ...]] = {
    "ai_governance_lead": ("ai_governance_lead", "ai_lead"),
    "risk_officer": ("risk_officer",),
    "dpo": ("dpo", "data_protection_officer"),
    "incident_contact": ("incident_contact",),
}


def _flat_contacts(organisation: Mapping[str, Any]) -> dict[str, Any]:
    """Contacts given as flat ``organisation`` keys (``ai_lead: "Ana Silva"``).

    ``contact_email`` becomes the incident contact's address when no incident contact is named.
    """
    found: dict[str, Any] = {}
    for role, keys in FLAT_CONTACT_KEYS.items():
        value = next((organisation[key] for key in keys if organisation.get(key)), None)
        if value is not None:
            found[role] = value
    email = organisation.get("contact_email")
    if email and "incident_contact" not in found:
        found["incident_contact"] = {"name": "the AI governance team", "email": str(email)}
    return found


def _config_of(config: Any) -> Mapping[str, Any]:
    """The settings mapping from a dict or a ``Workspace``."""
    if config is None:
        return {}
    inner = getattr(config, "config", config)
    if not isinstance(inner, Mapping):
        raise PolicyError("The policy settings must be a mapping (the contents of governance.yaml).")
    return inner


def _raw_context(template: PolicyTemplate, config: Any) -> dict[str, Any]:
    """The template's variables before escaping: defaults overlaid with ``governance.yaml``."""
    raw = _config_of(config)
    chosen = {key: raw[key] for key in ("organisation", "policies") if isinstance(raw.get(key), Mapping)}
    settings = _merge(DEFAULTS, chosen)
    organisation, policies = settings["organisation"], settings["policies"]
    given = chosen.get("organisation") or {}
    contacts_raw = given.get("contacts") or {}
    if not isinstance(contacts_raw, Mapping):
        raise PolicyError(
            "organisation.contacts in governance.yaml must map roles to names; see the policies page."
        )
    contacts_raw = {**_flat_contacts(given), **contacts_raw}
    contacts = {
        role: _contact(contacts_raw.get(role) or DEFAULTS["organisation"]["contacts"][role], role)
        for role in ROLES
    }
    interval = policies.get("review_interval_months") or template.review_interval_months
    try:
        interval = int(interval)
    except (TypeError, ValueError):
        raise PolicyError(
            "policies.review_interval_months in governance.yaml must be a whole number of months."
        ) from None
    effective = policies.get("effective_date")
    effective_date = _as_date(effective)
    review_dates = policies.get("review_dates") or {}
    fixed_review = _as_date(review_dates.get(template.id)) if isinstance(review_dates, Mapping) else None
    if fixed_review is not None:
        review = fixed_review.isoformat()
    elif effective_date is not None:
        review = _add_months(effective_date, interval).isoformat()
    else:
        review = f"{interval} months after the effective date"
    owners = policies.get("owners") or {}
    owner_person = owners.get(template.id) if isinstance(owners, Mapping) else None
    return {
        "monitoring": monitoring_context(raw.get("monitoring")),
        "organisation": {"name": str(organisation.get("name"))},
        "contacts": contacts,
        "policy": {
            "id": template.id,
            "title": template.title,
            "version": template.version,
            "owner_role": template.owner_role,
            "owner": str(owner_person) if owner_person else contacts[template.owner]["contact"],
            "effective_date": effective_date.isoformat() if effective_date else str(effective),
            "review_date": review,
            "review_interval_months": interval,
            "approved_by": str(policies.get("approved_by")),
        },
    }


MONITORING_KPIS = (
    "selection rate per group and its impact ratio to the reference group (95 % interval)",
    "error rates per group (accuracy, true and false positive rates) once outcomes are known",
    "shares of the groups and the distribution of the model's inputs (PSI)",
)


def monitoring_context(section: Any) -> dict[str, Any]:
    """The ``monitoring:`` section of ``governance.yaml`` (window, every_days, kpis, alerts), with defaults.

    Alert rules are the policy file's (``AlertRule``); without any, the defaults ``governance monitor`` uses.
    """
    from pydantic import ValidationError

    from governance.rules.schema import AlertRule, default_alert_rules

    section = section if isinstance(section, Mapping) else {}
    try:
        every = int(section.get("every_days") or 31)
        rules = [
            AlertRule.model_validate(rule) for rule in section.get("alerts") or []
        ] or default_alert_rules()
    except (TypeError, ValueError, ValidationError) as exc:
        raise PolicyError(
            "monitoring in governance.yaml must give every_days as a whole number and alerts as the alert rules "
            f"of a policy file ({type(exc).__name__}); see the monitoring page of the user guide."
        ) from None
    kpis = section.get("kpis") or list(MONITORING_KPIS)
    return {
        "window": str(section.get("window") or "1M"),
        "every_days": every,
        "kpis": [str(kpi) for kpi in (kpis if isinstance(kpis, list) else [kpis])],
        "alerts": [_alert_words(rule) for rule in rules],
    }


def _alert_words(rule: Any) -> str:
    """One alert rule in plain words."""
    what = {
        "fairness": f"a group's {rule.metric} ratio to the reference group moves away from the approved audit's",
        "performance": f"a group's {rule.metric} moves away from the approved audit's (needs outcomes)",
        "population": f"the {rule.metric.replace('_', ' ')} drift (PSI)",
    }[rule.kind]
    if rule.tolerance:
        beyond = f" by more than {rule.tolerance:g}"
    else:
        beyond = " beyond the policy's PSI threshold" if rule.kind == "population" else " beyond noise"
    action = "the version is due for audit at once" if rule.reaudit else "it is reported, no re-audit"
    return f"{rule.id}: {what}{beyond}; {action}"


def _escape_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _escape_all(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escape_all(item) for item in value]
    if isinstance(value, int):
        return value
    return markdown_text(value)


def policy_context(template: PolicyTemplate, config: Any) -> dict[str, Any]:
    """The variables a template sees, every one escaped for Markdown and HTML.

    ``organisation.name``; ``contacts.<role>.name|email|contact`` for the roles in :data:`ROLES`;
    ``policy.id|title|version|owner_role|owner|effective_date|review_date|review_interval_months|approved_by``.
    """
    escaped: dict[str, Any] = _escape_all(_raw_context(template, config))
    return escaped


def policy_metadata(template: PolicyTemplate, config: Any) -> dict[str, Any]:
    """The policy's owner, version and dates as plain (unescaped) values, for indexes and front matter.

    Escape these before putting them in a page; :func:`render_policy` puts them in its front matter.
    """
    policy = _raw_context(template, config)["policy"]
    return {
        "policy_id": template.id,
        "title": template.title,
        "summary": template.summary,
        "owner": f"{policy['owner_role']}: {policy['owner']}",
        "owner_role": policy["owner_role"],
        "version": template.version,
        "effective_date": policy["effective_date"],
        "review_date": policy["review_date"],
        "review_interval_months": policy["review_interval_months"],
        "approved_by": policy["approved_by"],
        "checklist_items": list(template.checklist_items),
    }


ItemLink = Callable[[str], str | None]


def _item_reference(item_id: str, item_link: ItemLink | None) -> str:
    target = item_link(item_id) if item_link is not None else None
    return f"[`{item_id}`]({target})" if target else f"`{item_id}`"


def render_policy(
    template: PolicyTemplate | str | Path,
    config: Any,
    *,
    item_link: ItemLink | None = None,
) -> str:
    """The policy as Markdown: front matter, a title, a table of owner, version and dates, then the body.

    The front matter (between ``---`` lines) holds :func:`policy_metadata`: plain values for indexes and
    MkDocs' page meta, not escaped, because they are data, not Markdown. Everything after it is escaped.

    ``template``: a :class:`PolicyTemplate`, a ``Path`` to a template file, or the template's text.
    ``config``: the contents of ``governance.yaml`` (or a ``Workspace``). ``item_link`` maps a checklist
    item id to a relative link (the site passes one); without it ids are shown as code.
    """
    from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import SandboxedEnvironment

    if isinstance(template, Path):
        template = load_policy_template(template)
    elif isinstance(template, str):
        template = parse_policy_template(template)
    name = template.path or template.id
    context = policy_context(template, config)
    environment = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    try:
        body = environment.from_string(template.body).render(**context)
    except UndefinedError as exc:
        raise PolicyError(
            f"Policy template {name}{_at_line(template, _template_line(exc))} uses an unknown variable "
            f"({exc.message}); use only the variables listed on the policies page of the user guide."
        ) from exc
    except SecurityError as exc:
        raise PolicyError(
            f"Policy template {name} tries to reach Python internals ({exc}); use only the documented variables."
        ) from exc
    except TemplateSyntaxError as exc:
        raise PolicyError(
            f"Policy template {name} has a template error at body line {exc.lineno}"
            f"{_file_line(template, exc.lineno)}: {str(exc.message).rstrip('.')}."
        ) from exc
    policy = context["policy"]
    items = ", ".join(_item_reference(item_id, item_link) for item_id in template.checklist_items) or "none"
    front_matter = yaml.safe_dump(policy_metadata(template, config), sort_keys=False, allow_unicode=True)
    header = [
        "---",
        front_matter.rstrip("\n"),
        "---",
        "",
        f"# {policy['title']}",
        "",
        f"| Policy | {policy['id']} |",
        "|---|---|",
        f"| Organisation | {context['organisation']['name']} |",
        f"| Policy owner | {policy['owner_role']}: {policy['owner']} |",
        f"| Version | {policy['version']} |",
        f"| Effective date | {policy['effective_date']} |",
        f"| Next review | {policy['review_date']} (every {policy['review_interval_months']} months) |",
        f"| Approved by | {policy['approved_by']} |",
        f"| Checklist items it answers | {items} |",
        "",
    ]
    return "\n".join(header) + "\n" + body.lstrip("\n")


def _template_line(exc: BaseException) -> int | None:
    """The body line a Jinja2 runtime error happened on (Jinja2 puts template frames in the traceback)."""
    line = None
    trace = exc.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def _file_line(template: PolicyTemplate, body_line: int | None) -> str:
    return f" (line {template.body_line + body_line - 1} of the file)" if body_line and template.path else ""


def _at_line(template: PolicyTemplate, body_line: int | None) -> str:
    if not body_line:
        return ""
    return f" at line {template.body_line + body_line - 1}" if template.path else f" at body line {body_line}"


def unknown_item_references(templates: list[PolicyTemplate], known_ids: set[str]) -> list[tuple[str, str]]:
    """(template id, item id) for every checklist item a template names that no checklist has."""
    return [(t.id, item) for t in templates for item in t.checklist_items if item not in known_ids]
