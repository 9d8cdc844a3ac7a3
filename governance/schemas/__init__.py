"""Published JSON Schemas: ``policy.schema.json`` (policy files) and ``audit.schema.json`` (``audit.json``).

The files are generated from the pydantic models and committed; a test fails when they drift.
Regenerate with ``python -m governance.schemas``.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent


def audit_json_schema() -> str:
    """The JSON Schema of ``audit.json``, versioned by ``schema_version``."""
    from governance.results.audit import AUDIT_SCHEMA_VERSION, AuditResult

    schema = AuditResult.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = f"governance audit.json, schema version {AUDIT_SCHEMA_VERSION}"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def generated() -> dict[str, str]:
    """File name -> the text it should hold."""
    from governance.rules.load import policy_json_schema

    return {"policy.schema.json": policy_json_schema(), "audit.schema.json": audit_json_schema()}


def write_all() -> list[Path]:
    """Regenerate the committed schema files."""
    written = []
    for name, text in generated().items():
        path = SCHEMA_DIR / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
