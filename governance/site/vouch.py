"""Reading audit folders through the register: the site publishes only files whose recorded hash they match.

When an audit is recorded, the register keeps the SHA-256 of every file of its folder. The site reads each
``audit.json`` and figure once, compares it with that hash, and uses the very bytes it checked. A changed,
missing, unrecorded or linked file makes the audit *not verified*: the build stops, unless the user asks to
publish such pages marked in red (``--allow-unverified``). Symbolic links are never read, in any case.

Audits recorded before manifests existed vouch for their ``audit.json`` only: their figures are redrawn from it
instead of being copied. A workspace without any register has nothing to check against: its audits are published
as they are (links skipped), each page saying that no register vouches for it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from governance.errors import SiteError
from governance.provenance import sha256_bytes
from governance.register import manifest
from governance.register.chain import ED25519, ED25519_PUBLIC_ENV, HMAC_ENV

FIGURE_SUFFIXES = (".svg", ".png")
Status = Literal["verified", "not-verified", "no-register"]


class UnverifiedAuditError(SiteError):
    """An audit folder does not match what the register recorded, so the site was not built."""

    exit_code = 1


class FigureHashes(Mapping[str, str]):
    """Each figure's SHA-256, read as hexadecimal, kept as raw digests in one bytes object beside a tuple of names
    shared by every audit with the same figures: kept as a dict of hexadecimal strings for every audit of the build,
    they took about 2.6 kB per audit, this about 0.5 kB."""

    __slots__ = ("_digests", "_names")

    def __init__(self, hashes: Mapping[str, str]) -> None:
        names = tuple(hashes)
        self._names = _SHARED_NAMES.setdefault(names, names)
        self._digests = b"".join(bytes.fromhex(hashes[name]) for name in names)

    def __getitem__(self, name: str) -> str:
        try:
            index = self._names.index(name)
        except ValueError:
            raise KeyError(name) from None
        return self._digests[index * 32 : index * 32 + 32].hex()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


_SHARED_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}  # one copy of each list of figure names


@dataclass
class AuditCheck:
    """How far the register vouches for one audit folder, and the figures that may be published.

    ``figures`` maps each figure's name to the SHA-256 of the bytes that were checked: holding the bytes of
    every figure of a thousand audits would take hundreds of megabytes, so :meth:`figure_bytes` reads a figure
    again when its page is written and publishes it only if it is still exactly those bytes.
    """

    status: Status
    problems: list[str] = field(default_factory=list)
    figures: Mapping[str, str] = field(default_factory=dict)  # kept as :class:`FigureHashes`
    redraw: bool = False  # recorded before manifests: draw the figures from the verified audit.json instead
    folder: Path | None = None

    def __post_init__(self) -> None:
        self.figures = FigureHashes(self.figures)

    def figure_bytes(self, name: str) -> bytes:
        """The figure's bytes, read again (never through a link) and identical to the bytes checked."""
        path = (self.folder or Path()) / "figures" / name
        data = manifest.read_regular(path)
        if data is None or sha256_bytes(data) != self.figures[name]:
            raise UnverifiedAuditError(
                f"The figure {path} was changed or removed while the site was being built, so nothing was "
                "published; build the site again."
            )
        return data


@dataclass
class Vouchers:
    """The register's recorded hashes, by audit folder; collects every problem found while reading."""

    workspace_root: Path
    register: bool
    by_folder: dict[Path, dict[str, Any]] = field(default_factory=dict)
    history_problem: str | None = None
    problems: list[str] = field(default_factory=list)
    seen: set[Path] = field(default_factory=set)

    @classmethod
    def from_export(
        cls, workspace_root: Path, exported: dict[str, Any] | None, audits: list[dict[str, Any]] | None = None
    ) -> Vouchers:
        """From the register's export (``None``: the workspace has no register) and its audit rows (``audits``,
        read a batch of models at a time; by default the export's)."""
        vouchers = cls(workspace_root=workspace_root, register=exported is not None)
        if exported is None:
            return vouchers
        if audits is None:
            audits = [audit for model in exported.get("models") or [] for audit in model.get("audits") or []]
        for audit in audits:
            vouchers.by_folder[vouchers._locate(str(audit["audit_json_path"])).parent.resolve()] = audit
        verification = exported.get("verification") or {}
        broken = [
            problem
            for problem in verification.get("problems") or []
            if problem.get("kind") not in ("audit_file", "orphan")  # orphans are left out of the site below
        ]
        if broken:
            vouchers.history_problem = (
                f"The register's history was edited by hand ({broken[0]['message']}), so it vouches for no "
                "audit; run `governance register verify` and restore the register from a backup."
            )
        elif verification.get("inconclusive"):  # signed, read without the key: a rewrite would not show
            key = ED25519_PUBLIC_ENV if verification.get("signing_algorithm") == ED25519 else HMAC_ENV
            vouchers.history_problem = (
                f"The register is signed, but {key} is not set, so its signatures could not be checked and it "
                f"vouches for no audit; set {key} to the register's key for the build."
            )
        return vouchers

    def disagreement(
        self, audit_json: Path, audit_id: str, model: str, version: str, verdict: str
    ) -> str | None:
        """How an audit.json disagrees with the register's record of its folder (``None``: it agrees).

        The register vouches for the bytes of a folder recorded for one model; the site files an audit under the
        model, version and verdict its audit.json states, so they must be the ones the register recorded.
        """
        audit = self.by_folder.get(audit_json.parent.resolve())
        if audit is None:
            return None
        stated = (audit_id, model, version, verdict)
        recorded = tuple(str(audit.get(key)) for key in ("audit_id", "model_name", "version", "verdict"))
        if stated == recorded:
            return None
        return (
            f"The audit file {audit['audit_json_path']} says it is audit {audit_id} of {model}@{version} ({verdict}), "
            f"but the register recorded that folder as audit {recorded[0]} of {recorded[1]}@{recorded[2]} "
            f"({recorded[3]}); run the audit again through the register."
        )

    def forget_rows(self) -> None:
        """Keep of each recorded audit only what :meth:`missing_folders` reads (the audits have been read): the
        whole rows would stay in memory for the whole build."""
        self.by_folder = {
            folder: {key: audit[key] for key in ("audit_json_path", "audit_id")}
            for folder, audit in self.by_folder.items()
        }

    def forget_folders(self) -> None:
        """Drop what :meth:`missing_folders` reads, once it has been read (before the pages are written): each
        audit's folder, twice, and its id took about 1 kB per audit for the rest of the build."""
        self.by_folder, self.seen = {}, set()

    def reject(self, check: AuditCheck, problem: str) -> None:
        """Mark an audit not verified because of ``problem``."""
        check.status = "not-verified"
        check.problems.append(problem)
        if problem not in self.problems:
            self.problems.append(problem)

    def _locate(self, stored: str) -> Path:
        path = Path(stored)
        return path if path.is_absolute() else self.workspace_root / path

    def read(self, audit_json: Path, warnings: list[str]) -> tuple[bytes | None, AuditCheck]:
        """The bytes of ``audit_json`` to publish (``None``: leave the audit out) and what vouches for them."""
        folder = audit_json.parent
        if not self.register:
            data = manifest.read_regular(audit_json)
            if data is None:
                warnings.append(f"{audit_json} was skipped: it is a symbolic link or not a plain file.")
            figures = _plain_figures(folder, warnings)
            return data, AuditCheck(status="no-register", figures=figures, folder=folder)
        audit = self.by_folder.get(folder.resolve())
        if audit is None:
            warnings.append(
                f"The audit folder {folder} is not recorded in the register, so it is left out of the site; "
                "run the audit through the register (`governance audit NAME@VERSION ...`) or remove the folder."
            )
            return None, AuditCheck(status="not-verified")
        self.seen.add(folder.resolve())
        data, check = self._check(audit, audit_json)
        if self.history_problem:
            check.problems.insert(0, self.history_problem)
        if check.problems:
            check.status = "not-verified"
            self.problems += [problem for problem in check.problems if problem not in self.problems]
        return data, check

    def _check(self, audit: dict[str, Any], audit_json: Path) -> tuple[bytes | None, AuditCheck]:
        shown = PurePosixPath(str(audit["audit_json_path"]))
        audit_id = str(audit["audit_id"])
        files = audit.get("files")
        if not isinstance(files, dict):  # recorded before manifests: audit.json only
            data = manifest.read_regular(audit_json)
            check = AuditCheck(status="verified", redraw=True)
            if data is None or sha256_bytes(data) != audit["audit_json_sha256"]:
                kind: manifest.ProblemKind = "changed" if data is not None else "missing"
                if data is None and audit_json.is_symlink():
                    kind = "link"
                check.problems.append(
                    manifest.describe(manifest.FileProblem(shown.name, kind), str(shown), audit_id)
                )
            return data, check
        recorded = {str(name): str(sha) for name, sha in files.items()}
        del audit["files"]  # checked once, read by nothing else: a thousand audits' hashes are megabytes
        found = manifest.check(audit_json, recorded, self.workspace_root)
        check = AuditCheck(
            status="verified",
            problems=[
                manifest.describe(problem, (shown.parent / problem.name).as_posix(), audit_id)
                for problem in found.problems
            ],
            figures={
                name.removeprefix("figures/"): sha256_bytes(data)
                for name, data in found.contents.items()
                if _is_figure(name)
            },
            folder=audit_json.parent,
        )
        return found.contents.get(manifest.AUDIT_FILE), check

    def missing_folders(self) -> list[str]:
        """Registered audits whose folder was not found (deleting one must not hide a verdict)."""
        found = []
        audits_dir = self.workspace_root / "audits"
        for folder, audit in self.by_folder.items():
            audit_json = self._locate(str(audit["audit_json_path"]))
            if folder in self.seen or audit_json.name != manifest.AUDIT_FILE:
                continue  # published, or not an audit folder
            if audit_json.exists() and not audit_json.is_relative_to(audits_dir):
                continue  # kept outside audits/ (never on the site)
            linked = manifest.linked_folder(audit_json, self.workspace_root)
            problem = (
                manifest.FileProblem(".", "linked-folder")
                if linked
                else manifest.FileProblem(manifest.AUDIT_FILE, "missing")
            )
            shown = (
                str(audit["audit_json_path"])
                if not linked
                else str(PurePosixPath(audit["audit_json_path"]).parent)
            )
            found.append(manifest.describe(problem, shown, str(audit["audit_id"])))
        return found

    def refuse_unless(self, allow_unverified: bool, warnings: list[str]) -> None:
        """Stop the build when anything is not vouched for, unless the user allows it (then warn)."""
        problems = self.problems + [p for p in self.missing_folders() if p not in self.problems]
        if self.history_problem and self.history_problem not in problems:
            problems.insert(0, self.history_problem)
        if not problems:
            return
        if allow_unverified:
            warnings += [f"Published as not verified: {problem}" for problem in problems]
            return
        more = (
            f" ({len(problems) - 1} more problem(s): run `governance register verify`)"
            if len(problems) > 1
            else ""
        )
        raise UnverifiedAuditError(
            f"{problems[0]}{more} Nothing was published: the site shows only what the register vouches for; "
            'fix this, or rebuild with --allow-unverified to publish such pages marked "not verified".'
        )


def _is_figure(name: str) -> bool:
    path = PurePosixPath(name)
    return len(path.parts) == 2 and path.parts[0] == "figures" and path.suffix.lower() in FIGURE_SUFFIXES


def _plain_figures(folder: Path, warnings: list[str]) -> dict[str, str]:
    """Every SVG and PNG in ``figures/`` that is a plain file, with its hash; links are skipped with a warning."""
    figures: dict[str, str] = {}
    source = folder / "figures"
    if not source.is_dir() or source.is_symlink():
        return figures
    for path in sorted(source.iterdir()):
        if path.suffix.lower() not in FIGURE_SUFFIXES:
            continue
        data = manifest.read_regular(path)
        if data is None:
            if path.is_symlink():
                warnings.append(f"{path} is a symbolic link; it was not followed or published.")
            continue
        figures[path.name] = sha256_bytes(data)
    return figures
