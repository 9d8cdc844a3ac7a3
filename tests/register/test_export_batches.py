"""The register read a few models at a time (issue 11, point 8; issue 13: a fixed number of queries).

The site packs each model's rows and events as soon as they are read; reading the whole export first held every
model's rows and events, as records and as JSON, at the build's peak. ``export_in_batches`` gives the same
fields as ``export``, a batch of models at a time, each batch with the same few queries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.register import Register
from tests.register.test_register_speed import counted

NAMES = ("alpha", "bravo", "charlie", "delta", "echo")


def _models(register: Register, workspace: Path, audit: Any, names: tuple[str, ...]) -> None:
    """Each model with a version and an audit; some need attention (an audit due soon, a changed file)."""
    for name in names:
        register.add_model(name, owner="o@example.com", purpose="Decide", actor="ds@example.com")
        path = workspace / "models" / f"{name}.skops"
        path.write_bytes(name.encode())
        register.add_version(name, "1.0.0", artifact_path=path, actor="ds@example.com")
        audit(name, "1.0.0", max_age_days=10 if name in ("alpha", "delta") else 180)  # due soon: attention
    (workspace / "models" / f"{names[-1]}.skops").write_bytes(b"changed since")  # attention too


def _read(register: Register, batch: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    header, batches = register.export_in_batches(batch=batch)
    return header, list(batches)


def test_batches_say_what_the_export_says(drafted: Register, workspace: Path, audit: Any) -> None:
    _models(drafted, workspace, audit, NAMES)
    whole = drafted.export()
    header, batches = _read(drafted, batch=2)
    assert [len(found["models"]) for found in batches] == [2, 2, 2]  # six models, credit-risk included
    for key in ("format", "format_version", "register", "chain_head", "verification"):
        assert header[key] == whole[key], key
    for key in ("models", "overviews"):
        assert [item for found in batches for item in found[key]] == whole[key], key
    names = {item["model"]["name"] for item in whole["models"]}
    events = [event for event in whole["events"] if event["model_name"] in names]  # each model's, by model
    events.sort(key=lambda event: (event["model_name"], event["seq"]))
    assert [event for found in batches for event in found["events"]] == events
    assert any(item["attention"] for item in whole["overviews"])  # the status items are compared too


def test_each_batch_takes_the_same_queries_whatever_its_models(
    drafted: Register, workspace: Path, audit: Any
) -> None:
    """Per batch a fixed number of queries: not one per model, version or event."""
    _models(drafted, workspace, audit, NAMES[:1])
    with counted(drafted) as few:
        _read(drafted, batch=100)
    _models(drafted, workspace, audit, NAMES[1:])
    for index in range(3):
        audit(NAMES[0], "1.0.0", audit_id=f"again-{index}")
    with counted(drafted) as many:
        _read(drafted, batch=100)
    assert len(many) == len(few), (len(few), len(many))
    with counted(drafted) as split:
        _read(drafted, batch=3)  # two batches of three models
    with counted(drafted) as single:
        _read(drafted, batch=6)
    per_batch = len(split) - len(single)
    assert 0 < per_batch <= 10, per_batch
