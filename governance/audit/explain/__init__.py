"""The explainability audit: SHAP attributions on raw columns, by group, a proxy screen and reason codes.

shap, pandas and scikit-learn are imported inside the functions, so importing this package is cheap.
"""

from __future__ import annotations

from governance.audit.explain.core import explain_model
from governance.audit.explain.proxy import (
    DEFAULT_PROXY_THRESHOLD,
    proxies_in_top_k,
    proxy_screen,
    sensitive_in_top_k,
)
from governance.audit.explain.reasons import reason_codes

__all__ = [
    "DEFAULT_PROXY_THRESHOLD",
    "explain_model",
    "proxies_in_top_k",
    "proxy_screen",
    "reason_codes",
    "sensitive_in_top_k",
]
