"""What to do next, as the register's messages say it to a Python caller.

A message writes the step as ``{action}`` and passes :func:`advice`'s ``actions`` and ``subject`` to its error:
the library reads the method to call, while the command line words the same step as its own command (see
``governance/cli/_common.py``). The library never names a command-line flag it was not given.
"""

from __future__ import annotations

from typing import Any

from governance.results.next_steps import NextStep

CALLS = {
    "add_model": "Register.add_model({model!r}, owner=..., purpose=...)",
    "list_models": "Register.list_models()",
    "add_version": "Register.add_version({model!r}, {version!r}, artifact_path=...)",
    "require_roles": "Register.require_roles(actor=...)",
    "audit": "record an audit of {label} in the register (governance.audit.registered.audit_registered)",
    "approve": "Register.approve({model!r}, {version!r}, role=..., actor=...)",
    "audit_again": "governance.audit.registered.audit_registered({label!r}, ...)",
    "suspend": "Register.suspend({model!r}, {version!r}, actor=...)",
    "monitor_history": "governance.register.monitoring.monitoring_runs(register, {model!r}, {version!r})",
    "first_monitoring": "governance.monitor.run.monitor(MonitorRequest(reference={label!r}, ...))",
    "monitor_again": "governance.monitor.run.monitor(MonitorRequest(reference={label!r}, ...))",
    "first_audit": "governance.audit.audit(...)",
    "answer_item": "Register.record_checklist_answer(...)",
    "vouch_version": "Register.add_version({model!r}, {version!r}, artifact_path={uri!r}, trust_sha256=SHA256)",
    "import_as": "register_name=NAME",
    "grant_sql": "Register.grant_sql(['alice', 'bob'])",
    "enable_signing": "Register.enable_signing(actor=...)",
    "mitigate_again": "governance.mitigate.run.mitigate(MitigationRequest(...))",
    "verify": "Register.verify()",
    "history": "Register.history()",
    "grant_sql_role": "Register.grant_sql([{role!r}])",
    "show_audits": "Register.show(NAME).audits",
    "any_audit": "governance.audit.audit(...)",
    "checkpoint": "Register.write_checkpoint(path)",
    "clean_orphans": "governance.register.orphans.clean_orphans(register, delete=True)",
}
"""The library's words for each step, filled in with the error's ``subject``."""


def advice(*actions: str, **subject: str) -> dict[str, Any]:
    """The ``actions`` and ``subject`` keywords of an error whose message suggests ``actions``."""
    return {"actions": {action: CALLS[action].format(**subject) for action in actions}, "subject": subject}


def step(action: str, **subject: str) -> NextStep:
    """A result's next step (a status item, a checklist reason, an import line): the library's words for it,
    which the command line and the site word as its command (``governance.results.next_steps.worded``)."""
    return NextStep(action=action, said=CALLS[action].format(**subject), subject=subject)
