"""Responsible-AI governance for small teams.

``governance.audit(...)`` audits a model or its predictions for bias and explainability;
``governance.Register`` is the model register. Heavy libraries load only when used.
"""

from __future__ import annotations

from typing import Any

from governance.version import __version__

__all__ = ["Register", "__version__", "audit"]


def __getattr__(name: str) -> Any:
    if name == "audit":
        from governance.audit.run import audit

        return audit
    if name == "Register":
        from governance.register import Register

        return Register
    raise AttributeError(f"module 'governance' has no attribute {name!r}")
