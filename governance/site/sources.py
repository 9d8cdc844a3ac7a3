"""What the site is built from: audits on disk, the register's export, the workspace's settings.

Audits are read from ``audits/<model>/<version>/<audit-id>/audit.json`` only (the report and the site read
results, never the database), through the hashes the register recorded for them (see :mod:`governance.site.vouch`).
The register adds owners, status, approvals and the lifecycle timeline when it exists; a workspace without one
still gets a site from its audits alone, each page saying that no register vouches for it.
"""

from __future__ import annotations

import json
import logging
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.paths import page_slug
from governance.provenance import sha256_bytes
from governance.register import manifest
from governance.results.audit import AuditResult
from governance.site.slim_cache import KEY_SUMMARIES, SlimCache, Spilled
from governance.site.vouch import AuditCheck, UnverifiedAuditError, Vouchers
from governance.workspace import Workspace

if TYPE_CHECKING:
    from collections.abc import Callable

    from governance.register.overview import ModelOverview
    from governance.register.records import EventRecord

log = logging.getLogger(__name__)

Ratio = tuple[str, str, float, float | None, float | None]  # attribute, summary, value, low, high

CARD_FIELDS = (
    ("owners", "Owners"),
    ("intended_use", "Intended use"),
    ("intended_users", "Intended users"),
    ("out_of_scope", "Out-of-scope uses and restrictions"),
    ("training_data", "Training data"),
    ("evaluation_data", "Evaluation data"),
    ("limitations", "Limitations"),
    ("tradeoffs", "Trade-offs"),
    ("risks", "Risks and mitigations"),
    ("ethical_considerations", "Ethical considerations"),
)


@dataclass(frozen=True, init=False)
class AuditRecord:
    """One audit folder, its parsed ``audit.json``, and how far the register vouches for it.

    To keep a build's memory flat however many audits there are, ``result`` is a slim copy (ids, dates, the
    verdict, the summary ratios: see :func:`slim`) unless the record was made :meth:`whole`, and a slim copy's
    JSON (about 2 kB; parsed, about 9 kB) waits in a temporary file (:class:`~governance.site.slim_cache.SlimSpill`),
    parsed again when read (the last few parsed are kept). Neither the bytes nor the whole result are kept: :meth:`full` reads ``audit.json`` again for the page
    that needs every table, and uses it only if it is still exactly the bytes that were checked (``digest``), as
    figures are read again.
    """

    stored: AuditResult | Spilled  # the result, or where the slim copy's JSON waits on disk
    folder: Path
    check: AuditCheck
    digest: str  # SHA-256 of the checked audit.json bytes: the site rebuilds a page only when it changes
    slimmed: bool  # ``result`` is the slim copy; :meth:`full` reads the whole one again
    ratios: (
        bytes  # a slim record's key ratios (see :func:`key_ratios`) as JSON: as tuples they took about 1 kB
    )

    def __init__(
        self,
        result: AuditResult | Spilled,
        folder: Path,
        check: AuditCheck | None = None,
        digest: str = "",
        slimmed: bool = False,
        ratios: tuple[Ratio, ...] | bytes = (),
    ) -> None:
        fields = {
            "stored": result,
            "folder": folder,
            "check": check if check is not None else AuditCheck(status="no-register"),
            "digest": digest,
            "slimmed": slimmed,
            "ratios": ratios
            if isinstance(ratios, bytes)
            else json.dumps(ratios, separators=(",", ":")).encode(),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    @property
    def result(self) -> AuditResult:
        """The whole result, or the slim copy (see the class's note)."""
        stored = self.stored
        return stored if isinstance(stored, AuditResult) else _parsed_slim(stored)

    @property
    def key_ratios(self) -> tuple[Ratio, ...]:
        """Each attribute's key ratios, for the model page's figure (kept aside when the result is slim)."""
        if not self.slimmed:
            return key_ratios(self.result)
        return tuple((str(a), str(s), float(v), low, high) for a, s, v, low, high in json.loads(self.ratios))

    def full(self) -> AuditResult:
        """The whole result, from bytes identical to those that were checked (read again, never through a link)."""
        if not self.slimmed:
            return self.result
        path = self.folder / "audit.json"
        data = manifest.read_regular(path)
        if data is None or sha256_bytes(data) != self.digest:
            raise UnverifiedAuditError(
                f"The audit file {path} was changed or removed while the site was being built, so nothing was "
                "published; build the site again."
            )
        return AuditResult.model_validate_json(data)

    def whole(self) -> AuditRecord:
        """This record with the whole result in ``result`` (for the few audits a model's pages describe)."""
        if not self.slimmed:
            return self
        return AuditRecord(
            self.full(), self.folder, self.check, self.digest, slimmed=False, ratios=self.ratios
        )

    @property
    def created_at(self) -> str:
        return self.result.provenance.created_at

    @property
    def slug(self) -> str:
        return page_slug(self.result.audit_id)


@dataclass
class ModelEntry:
    """Everything the site knows about one model, merged from the register, the config and its audits.

    The register's detail of the model (every version, audit and approval row) and its events are kept packed
    (compressed JSON, see :meth:`pack`) and read back when a page asks: held as Python objects they took about
    8 kB per audit for the whole build, packed well under one.
    """

    name: str
    slug: str = ""
    card: dict[str, Any] = field(default_factory=dict)
    status: str | None = None
    is_aedt: bool = False
    aedt_from_register: bool = False
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    answers: list[dict[str, Any]] = field(default_factory=list)
    audits: list[AuditRecord] = field(default_factory=list)
    overview: ModelOverview | None = (
        None  # where it stands, computed by the register (as `register show` says)
    )
    packed: bytes = b""  # the register's detail and events of this model (see :meth:`pack`)

    def pack(self, register_detail: dict[str, Any], events: list[dict[str, Any]]) -> None:
        """Keep the register's detail and events as compressed JSON (they are JSON already: read back equal)."""
        if not register_detail and not events:
            self.packed = b""
            return
        audits = [  # each audit's file hashes are checked once (see :mod:`governance.site.vouch`), read by no page
            {key: value for key, value in audit.items() if key != "files"}
            for audit in register_detail.get("audits") or []
        ]
        detail = {**register_detail, "audits": audits} if "audits" in register_detail else register_detail
        text = json.dumps([detail, events], separators=(",", ":"))
        self.packed = zlib.compress(text.encode("utf-8"), 1)

    def _unpacked(self) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if not self.packed:
            return {}, []
        detail, events = json.loads(zlib.decompress(self.packed))
        return detail, events

    @property
    def register_detail(self) -> dict[str, Any]:
        """The register's detail of this model (versions, audits, approvals...), read back from :attr:`packed`."""
        return self._unpacked()[0]

    @property
    def events(self) -> list[dict[str, Any]]:
        """The model's register events as the site keeps them (see :func:`site_event`), oldest first."""
        return self._unpacked()[1]

    @property
    def latest_audit(self) -> AuditRecord | None:
        return max(self.audits, key=lambda record: record.created_at, default=None)

    @property
    def shown_audit(self) -> AuditRecord | None:
        """The audit the card describes: the live version's, else the newest version's, else the latest on disk."""
        if self.overview is not None:
            for version in [*reversed(self.overview.deployed), self.overview.newest]:
                if version is not None and version.current_audit is not None:
                    found = [r for r in self.audits if r.result.audit_id == version.current_audit.audit_id]
                    if found:
                        return found[0]
        return self.latest_audit

    @property
    def next_audit_due(self) -> str | None:
        """The register's date (as `register show` and `status` say); without a register, the last audit's date
        plus the policy's maximum audit age, or a date written in governance.yaml."""
        if self.overview is not None:
            return self.overview.next_audit_due[:10] if self.overview.next_audit_due else None
        for key in ("next_audit_due", "next_audit", "reaudit_due"):
            if self.card.get(key):
                return str(self.card[key])[:10]
        latest = self.latest_audit
        if latest is None or latest.result.policy.max_audit_age_days is None:
            return None
        created = datetime.fromisoformat(latest.created_at.replace("Z", "+00:00"))
        return (created + timedelta(days=latest.result.policy.max_audit_age_days)).date().isoformat()


@dataclass
class SiteSources:
    """The inputs of one build."""

    models: dict[str, ModelEntry]
    audits: list[AuditRecord]
    register_available: bool
    problems: list[str] = field(default_factory=list)
    register_head: dict[str, Any] | None = None  # the chain head ({"seq", "hash"}) when the register was read
    vouchers: Vouchers | None = None
    register_warnings: list[str] = field(default_factory=list)  # e.g. a shared database role was allowed


def load_audits(
    audits_dir: Path, problems: list[str], vouchers: Vouchers | None = None, cache: SlimCache | None = None
) -> list[AuditRecord]:
    """Every readable ``audit.json`` under ``audits/``, read through the register's hashes when there is one.

    Unreadable ones are reported, not fatal; what the register does not vouch for is collected in ``vouchers``.
    Hidden folders are never entered: they hold audits still being written or left by a crash. ``cache`` holds the
    slim copies a previous build made of the same bytes (see :mod:`governance.site.slim_cache`).
    """
    from governance.audit.folders import audit_json_files

    records: list[AuditRecord] = []
    if not audits_dir.is_dir():
        return records
    vouchers = vouchers or Vouchers(workspace_root=audits_dir.parent, register=False)
    cache = cache or SlimCache(path=None)
    for path in audit_json_files(audits_dir):
        data, check = vouchers.read(path, problems)
        if data is None:
            continue
        digest = sha256_bytes(data)
        made = _made(data, path, problems, vouchers, cache, digest)
        del data  # one whole audit at a time: the next one is read into the same memory
        if made is None:
            continue
        result, stored, ratios = made
        disagreement = _disagreement(vouchers, path, result)
        if disagreement is not None:
            vouchers.reject(check, disagreement)
        folder = check.folder or path.parent  # one Path for both
        records.append(AuditRecord(stored, folder, check, digest, slimmed=True, ratios=ratios))
    return sorted(records, key=lambda record: (record.result.model.name, record.created_at))


def _made(
    data: bytes, path: Path, problems: list[str], vouchers: Vouchers, cache: SlimCache, digest: str
) -> tuple[AuditResult, Spilled, tuple[Ratio, ...]] | None:
    """The slim copy of one audit, from the cache when it has one that the register agrees with: a cached copy
    that disagrees (a cache edited, or its lines swapped) is made again from the checked bytes, so that only the
    audit file itself is ever blamed."""
    cached = cache.get(digest)
    if cached is not None and _disagreement(vouchers, path, cached[0]) is None:
        return cached
    return _slim_copy(data, path, problems, cache, digest)


def _disagreement(vouchers: Vouchers, path: Path, result: AuditResult) -> str | None:
    return vouchers.disagreement(
        path, result.audit_id, result.model.name, result.model.version, result.policy.verdict
    )


def _slim_copy(
    data: bytes, path: Path, problems: list[str], cache: SlimCache, digest: str
) -> tuple[AuditResult, Spilled, tuple[Ratio, ...]] | None:
    """The slim copy (parsed, and as JSON) and key ratios of one audit, parsed whole from its checked bytes
    (``None``: not an audit)."""
    try:
        result = AuditResult.model_validate_json(data)
    except ValueError as exc:
        problems.append(f"{path} was skipped: it is not a valid audit.json ({type(exc).__name__}).")
        return None
    slimmed = slim(result)
    ratios = key_ratios(result)
    return slimmed, cache.put(digest, slimmed.model_dump_json().encode(), ratios), ratios


# Slim copies kept parsed (about 9 kB each): a few, so that the pages of one model read its audits without parsing
# them again and again; a bound the size of a workspace's audits (256) grew the build's peak with every audit.
PARSED_KEPT = 16


@lru_cache(maxsize=PARSED_KEPT)
def _parsed_slim(stored: Spilled) -> AuditResult:
    """A slim copy parsed from its JSON; the last few are kept, as a model's pages read its audits together."""
    return AuditResult.model_validate_json(stored.data())


def forget_parsed() -> None:
    """Drop the parsed slim copies kept (a build's pages are written)."""
    _parsed_slim.cache_clear()


def key_ratios(result: AuditResult) -> tuple[Ratio, ...]:
    """(attribute, summary, value, low, high) of each single attribute's key ratios, in the result's order."""
    return tuple(
        (attribute.attribute, key, found.value, found.low, found.high)
        for attribute in result.fairness.attributes
        if not attribute.is_intersection and attribute.positive_class is None
        for key in KEY_SUMMARIES
        if (found := attribute.summaries.get(key)) is not None and found.value is not None
    )


def slim(result: AuditResult) -> AuditResult:
    """The result without what only the pages of the audit itself, or of its model's described audit, read.

    What stays is what the register page and the audit lists read of every audit: ids, dates, the verdict and its
    policy's audit age (the key ratios are kept aside, see :func:`key_ratios`). A few kilobytes instead of about
    a megabyte, so that the build's memory hardly grows with the number of audits.
    """
    fairness = result.fairness.model_copy(update={"attributes": [], "overall": {}, "interval_methods": {}})
    policy = result.policy.model_copy(update={"rules": []})
    provenance = result.provenance.model_copy(update={"library_versions": {}})
    return result.model_copy(
        update={"fairness": fairness, "explanation": None, "policy": policy, "provenance": provenance}
    )


def with_whole(model: ModelEntry) -> ModelEntry:
    """A copy of ``model`` whose described audits (card, checklist, LL144) are whole; the rest stay slim.

    Made for one model's pages and dropped after them, so at most one model's whole audits are in memory.
    """
    try:
        from governance.checklists.sources import latest_audit_record
    except ImportError:  # without the checklists module, no checklist page needs an audit
        latest_audit_record = None  # type: ignore[assignment]

    wanted: set[str] = set()
    recorded = (
        latest_audit_record(model.register_detail)
        if latest_audit_record is not None and model.register_detail
        else None
    )
    for record in (model.latest_audit, model.shown_audit):
        if record is not None:
            wanted.add(record.result.audit_id)
    if recorded:
        wanted.add(str(recorded.get("audit_id")))
    audits = [record.whole() if record.result.audit_id in wanted else record for record in model.audits]
    return replace(model, audits=audits)


def _read_register(
    workspace: Workspace, url: str | None, reader: Callable[[dict[str, Any]], None]
) -> dict[str, Any] | None:
    """The register's export header (head, verification), or ``None`` when there is no register yet (the site
    never creates one); each batch of models is given to ``reader`` as it is read (see
    :meth:`governance.register.Register.export_in_batches`), so that their rows are packed before the next."""
    target = url or workspace.register_url
    if target.startswith("sqlite:///") and not Path(target.removeprefix("sqlite:///")).is_file():
        return None
    try:
        from governance.register import Register
    except ImportError:
        return None
    with Register.for_workspace(workspace, url=url) as register:  # a damaged one stops the build (exit 4)
        header, batches = register.export_in_batches(event_view=site_event)
        for batch in batches:
            reader(batch)
    return header


PAYLOAD_KINDS = ("monitoring.recorded", "mitigation.recorded")  # the pages read these events' payloads whole


def site_event(event: EventRecord) -> EventRecord:
    """The event as the site's pages read it: kind, time, actor, version, summary, and which tables it wrote.

    Only monitoring and mitigation events keep their payload (their pages show its rows); the other payloads,
    a few kilobytes each (an audit's holds the hash of every file), are read by no page, so the build does not
    hold them for every event of every model. An event without a summary keeps its payload (the timeline shows it).
    """
    if event.kind in PAYLOAD_KINDS or not event.summary:
        return event
    rows = event.payload.get("rows")
    tables = (
        [{"table": row.get("table")} for row in rows if isinstance(row, dict)]
        if isinstance(rows, list)
        else []
    )
    return event.model_copy(update={"payload": {"rows": tables}, "prev_hash": "", "hash": "", "hmac": None})


def _model_name(record: dict[str, Any]) -> str | None:
    for key in ("name", "model_name", "model"):
        if isinstance(record.get(key), str):
            return str(record[key])
    return None


def _records(exported: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    for key in keys:
        value = exported.get(key)
        if isinstance(value, list):
            return [item for item in value if isinstance(item, dict)]
    return []


def _register_model(model: ModelEntry, detail: dict[str, Any], record: dict[str, Any]) -> None:
    """Fill a model's entry from its register detail: card fields, AEDT answer, versions, approvals, answers."""
    model.card.update({key: value for key, value in record.items() if value not in (None, "", [])})
    if record.get("is_aedt") is not None:
        model.is_aedt = bool(record["is_aedt"])
        model.aedt_from_register = True
    for version in detail.get("versions") or []:
        if not isinstance(version, dict):
            continue
        model.versions[str(version.get("version", ""))] = version
        if version.get("state"):
            model.status = str(version["state"])  # oldest first: the latest version's state wins
        if version.get("training_data_description"):
            model.card.setdefault("training_data", version["training_data_description"])
    model.approvals += [item for item in detail.get("approvals") or [] if isinstance(item, dict)]
    model.answers += [item for item in detail.get("checklist_answers") or [] if isinstance(item, dict)]


def _models_from_register(exported: dict[str, Any], entry: Callable[[str], ModelEntry]) -> dict[str, Any]:
    """Every model the register export names, with what the register knows of it; returns each one's detail."""
    details: dict[str, Any] = {}
    for detail in _records(exported, "models"):
        nested = detail.get("model")
        record: dict[str, Any] = nested if isinstance(nested, dict) else detail
        name = _model_name(record)
        if name is not None:
            _register_model(entry(name), detail, record)
            details[name] = detail
    return details


def _attach_events_and_overviews(
    exported: dict[str, Any], models: dict[str, ModelEntry], details: dict[str, Any]
) -> None:
    """Each registered model's detail and events (packed), and its overview (whose shown version's state is its
    status)."""
    events: dict[str, list[dict[str, Any]]] = {}
    for event in _records(exported, "events"):
        name = event.get("model_name")
        if isinstance(name, str) and name in models:
            events.setdefault(name, []).append(event)
    for name, detail in details.items():
        models[name].pack(detail, events.pop(name, []))
    from governance.register.overview import ModelOverview

    for view in _records(exported, "overviews"):
        parsed = ModelOverview.model_validate(view)
        if parsed.name in models:
            models[parsed.name].overview = parsed
            shown = parsed.shown
            models[parsed.name].status = shown.state if shown is not None else None


def _cards_from_config(workspace: Workspace, entry: Callable[[str], ModelEntry]) -> None:
    """The ``models:`` section of ``governance.yaml`` fills what the register left open."""
    configured = workspace.config.get("models") or {}
    if not isinstance(configured, dict):
        return
    for name, card in configured.items():
        if isinstance(card, dict):
            model = entry(str(name))
            for key, value in card.items():
                model.card.setdefault(str(key), value)
            if "is_aedt" in card and not model.aedt_from_register:
                model.is_aedt = bool(card["is_aedt"])  # the register's answer, when it has one, wins


def collect(
    workspace: Workspace, *, register_url: str | None = None, cache: Path | None = None
) -> SiteSources:
    """Gather the audits, the register and the ``models:`` section of ``governance.yaml``.

    ``cache``: the file of slim audit copies to reuse and update (the site build's; see
    :mod:`governance.site.slim_cache`).
    """
    problems: list[str] = []
    models: dict[str, ModelEntry] = {}
    recorded: list[dict[str, Any]] = []  # the register's audit rows, for the vouchers

    def entry(name: str) -> ModelEntry:
        if name not in models:
            models[name] = ModelEntry(name=name)
        return models[name]

    def read(batch: dict[str, Any]) -> None:
        recorded.extend(audit for model in _records(batch, "models") for audit in model.get("audits") or [])
        _attach_events_and_overviews(batch, models, _models_from_register(batch, entry))

    exported = _read_register(workspace, register_url, read)
    vouchers = Vouchers.from_export(workspace.root, exported, recorded)
    slim_copies = SlimCache.open(cache)
    audits = load_audits(workspace.audits_dir, problems, vouchers, slim_copies)
    slim_copies.save()
    if exported:
        vouchers.forget_rows()  # the audits' rows are packed with their models: keep only what is checked later
    _cards_from_config(workspace, entry)

    for audit in audits:
        model = entry(audit.result.model.name)
        model.audits.append(audit)
        model.versions.setdefault(audit.result.model.version, {"version": audit.result.model.version})

    taken: set[str] = set()
    for name in sorted(models):
        model = models[name]
        base = page_slug(name)
        slug, counter = base, 2
        while slug.lower() in taken:
            slug, counter = f"{base}-{counter}", counter + 1
        taken.add(slug.lower())
        model.slug = slug
        if model.status is None and model.versions:
            latest = model.latest_audit
            key = latest.result.model.version if latest else sorted(model.versions)[-1]
            found = model.versions.get(key, {})
            model.status = found.get("state") or found.get("status")
    return SiteSources(
        models=dict(sorted(models.items())),
        audits=audits,
        register_available=exported is not None,
        problems=problems,
        register_head=_chain_head(exported),
        vouchers=vouchers,
        register_warnings=_register_warnings(exported),
    )


def _register_warnings(exported: dict[str, Any] | None) -> list[str]:
    """What verify warns about although the history is intact (a shared database role allowed)."""
    verification = (exported or {}).get("verification")
    found = verification.get("warnings") if isinstance(verification, dict) else None
    return [str(item) for item in found] if isinstance(found, list) else []


def _chain_head(exported: dict[str, Any] | None) -> dict[str, Any] | None:
    """The export's chain head, for the front page to print (a reviewer keeps it to check later)."""
    head = (exported or {}).get("chain_head")
    return head if isinstance(head, dict) and isinstance(head.get("hash"), str) else None
