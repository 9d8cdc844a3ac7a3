"""What to do next, as the register's messages say it to a Python caller.

A message writes the step as ``{action}`` and passes :func:`advice`'s ``actions`` and ``subject`` to its error:
the library reads the method to call, while the command line words the same step as its own command (see
``governance/cli/_common.py``). The library never names a command-line flag it was not given.
"""

from __future__ import annotations

from typing import Any

CALLS = {
    "add_model": "Register.add_model({model!r}, owner=..., purpose=...)",
    "list_models": "Register.list_models()",
    "add_version": "Register.add_version({model!r}, {version!r}, artifact_path=...)",
    "require_roles": "Register.require_roles(actor=...)",
    "audit": "record an audit of {label} in the register (governance.audit.registered.audit_registered)",
    "approve": "Register.approve({model!r}, {version!r}, role=..., actor=...)",
}
"""The library's words for each step, filled in with the error's ``subject``."""


def advice(*actions: str, **subject: str) -> dict[str, Any]:
    """The ``actions`` and ``subject`` keywords of an error whose message suggests ``actions``."""
    return {"actions": {action: CALLS[action].format(**subject) for action in actions}, "subject": subject}
