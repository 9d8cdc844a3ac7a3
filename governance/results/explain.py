"""Results of the explainability audit (``governance.audit.explain``). Owned by the explain module."""

from __future__ import annotations

from governance.results.common import Model


class ExplanationResult(Model):
    """Global and per-group attributions, proxy screen and reason-code example for one audit."""

    explainer: str
