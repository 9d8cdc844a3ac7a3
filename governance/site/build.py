"""``build_site``: write ``docs/generated/`` from the workspace, then build the MkDocs site.

The site module is the only writer of ``docs/generated/`` and ``site/``. Each is written whole into a hidden
temporary folder next to it and swapped in at the end, so a failed or killed build never leaves half a folder,
and pages of deleted models do not linger; the next build removes what a killed one left. Audits are read
through the register's recorded hashes (:mod:`governance.site.vouch`). Every file name comes from :func:`governance.paths.safe_join` (slugs), so a model called
``../../etc/passwd`` writes nothing outside ``docs/generated/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from governance.atomic import clear_debris, staging_folder, swap_in
from governance.errors import SiteError, SiteRenderError
from governance.escaping import markup_text, nav_title
from governance.paths import page_slug, safe_join
from governance.provenance import isoformat, now
from governance.report.markdown import hidden_groups
from governance.results.audit import AuditResult
from governance.site.attention_page import AttentionLinks, attention_items, render_attention
from governance.site.audit_figures import is_figures_folder
from governance.site.audit_page import DETAILS_PAGE, render_audit_page, render_details_html
from governance.site.checklist_pages import (
    ItemLinks,
    counts_only,
    load_frameworks,
    model_status,
    render_checklists_index,
    render_framework_page,
    render_model_status_page,
)
from governance.site.diff_pages import DiffPair, comparisons_section, diff_pairs, render_diff_page
from governance.site.figures import draw_ratio_figure
from governance.site.ll144_page import render_ll144_page
from governance.site.markdown import broken_notice
from governance.site.model_page import render_model_page
from governance.site.monitoring_section import draw_trend_figure
from governance.site.policy_pages import render_policies, render_policies_index
from governance.site.register_page import render_models, render_register_page
from governance.site.slim_cache import CACHE_NAME as SLIM_CACHE
from governance.site.sources import AuditRecord, SiteSources, collect, forget_parsed, with_whole
from governance.workspace import Workspace


@dataclass
class SiteBuildReport:
    """What a build did: pages written (relative to ``docs/generated``), the built site, warnings.

    Figures are counted, not listed (a dozen per audit, kept to the end of the build): :meth:`figure_paths` lists
    them from ``docs/generated``."""

    generated_dir: Path
    pages: list[str] = field(default_factory=list)
    figure_count: int = 0
    site_dir: Path | None = None
    warnings: list[str] = field(default_factory=list)
    broken: list[str] = field(
        default_factory=list
    )  # pages, templates or checklists that could not be rendered
    attention: str = ""  # the "Needs attention" block, with links from the site's home page

    @property
    def index_html(self) -> Path | None:
        return self.site_dir / "index.html" if self.site_dir else None

    def figure_paths(self) -> Iterator[str]:
        """The figures of ``docs/generated`` (relative to it), the models' and the audits', one at a time."""
        for folder, subfolders, names in os.walk(self.generated_dir):
            subfolders.sort()
            relative = Path(folder).relative_to(self.generated_dir).as_posix()
            if relative == "models/figures" or is_figures_folder(f"generated/{relative}"):
                yield from (f"{relative}/{name}" for name in sorted(names))


class _Writer:
    """Writes pages under one root, by slugified parts only.

    A file whose bytes equal the previous build's is hard-linked from it instead of written, so its time stamp
    stays and MkDocs' incremental build leaves its page alone (see :mod:`governance.site.incremental`).
    """

    def __init__(self, root: Path, report: SiteBuildReport, previous: Path | None = None) -> None:
        self.root = root
        self.report = report
        self.previous = previous
        self.tolerances: dict[tuple[str, str], float] = {}  # per policy file and hash: read once per build

    def page(self, parts: tuple[str, ...], text: str) -> str:
        *folders, name = parts
        target = safe_join(self.root, *folders, name) if folders else safe_join(self.root, name)
        target = target.with_name(target.name + ".md")
        relative = target.relative_to(self.root).as_posix()
        if relative in self.report.pages:
            raise SiteError(f"Two pages of the site would both be {relative}; rename one of the models.")
        self.store(target, text.encode("utf-8"))
        self.report.pages.append(relative)
        return relative

    def store(self, target: Path, data: bytes) -> None:
        """Write ``data`` to ``target`` (under the root), or link the previous build's identical file."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.previous is not None:
            old = self.previous / target.relative_to(self.root)
            try:
                same = old.is_file() and not old.is_symlink() and old.stat().st_size == len(data)
                if same and old.read_bytes() == data:
                    os.link(old, target)
                    return
            except OSError:
                pass  # written below
        target.write_bytes(data)

    def reuse(self, folder: str, key: str) -> list[str] | None:
        """Link the previous build's files of ``folder`` when they were made from the same inputs (``key``).

        Returns the names of its figures, or ``None`` when the folder must be built again.
        """
        if self.previous is None:
            return None
        old = self.previous / folder
        try:
            if (old / KEY_FILE).read_text(encoding="utf-8") != key:
                return None
        except OSError:
            return None
        for source in sorted(old.rglob("*")):
            if source.is_symlink() or not source.is_file():
                continue
            target = self.root / folder / source.relative_to(old)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, target)
            except OSError:
                shutil.copy2(source, target)
        figures = self.root / folder / "figures"
        return sorted(path.name for path in figures.iterdir()) if figures.is_dir() else []

    def reuse_page(self, page: str, key: str) -> bool:
        """Link the previous build's ``page`` (relative to the root) when it was made from the same inputs (``key``,
        kept beside it in a hidden file); ``False`` when it must be made again."""
        if self.previous is None:
            return False
        old = self.previous / page
        marker = _page_key_file(page)
        try:
            if (self.previous / marker).read_text(encoding="utf-8") != key or old.is_symlink():
                return False
            for name in (page, marker):
                target = self.root / name
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(self.previous / name, target)
        except OSError:
            return False
        self.report.pages.append(page)
        return True

    def page_key(self, page: str, key: str) -> None:
        """Keep the inputs ``page`` was made from beside it, for :meth:`reuse_page` in the next build."""
        (self.root / _page_key_file(page)).write_text(key, encoding="utf-8")

    def folder(self, *parts: str) -> Path:
        target = safe_join(self.root, *parts)
        target.mkdir(parents=True, exist_ok=True)
        return target


KEY_FILE = ".inputs"  # hidden: MkDocs neither builds nor publishes it


def _page_key_file(page: str) -> str:
    """The hidden file beside a page that holds what it was made from (``diffs/m/a.md`` -> ``diffs/m/.a.md.inputs``)."""
    folder, _, name = page.rpartition("/")
    return f"{folder}/.{name}{KEY_FILE}" if folder else f".{name}{KEY_FILE}"


@lru_cache(maxsize=1)
def _code_key() -> str:
    """The code an audit page is drawn with: a changed module (or version) rebuilds every audit page."""
    from governance import escaping
    from governance.report import charts, explain, explain_figures, figures, markdown
    from governance.site import audit_page, details_html
    from governance.site import markdown as site_markdown

    modules = [charts, explain, explain_figures, figures, markdown, audit_page, details_html, escaping]
    modules.append(site_markdown)
    from governance.version import __version__

    digest = hashlib.sha256(__version__.encode())
    digest.update(Path(__file__).read_bytes())
    for module in modules:
        digest.update(Path(str(module.__file__)).read_bytes())
    return digest.hexdigest()


def _audit_key(record: AuditRecord, *, model_link: str, k: int, comparisons: str = "") -> str:
    """What an audit's page and figures are made from: its checked bytes, the register's verdict on them, k."""
    check = record.check
    parts = {
        "code": _code_key(),
        "audit": record.digest,
        "status": check.status,
        "problems": check.problems,
        "redraw": check.redraw,
        "figures": dict(sorted(check.figures.items())),
        "model_link": model_link,
        "k": k,
        "comparisons": comparisons,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _relative(from_page: str, to_page: str) -> str:
    """A link from one generated page to another (both relative to ``docs/generated``)."""
    depth = from_page.count("/")
    return "../" * depth + to_page


@dataclass(frozen=True)
class _PagePaths:
    """Where each generated page goes (relative to ``docs/generated``), decided before any page is written."""

    models: dict[str, str]  # model name -> its card
    audits: dict[str, str]  # audit id -> its page
    checklist_models: dict[str, str]  # model name -> its checklist status (only with checklists)
    frameworks: dict[str, str]  # framework -> its checklist page
    ll144: dict[str, str]  # model name -> its LL144 summary (automated employment decision tools only)


def _audit_paths(sources: SiteSources) -> dict[str, str]:
    """Each audit's page; two audit ids with the same slug keep two pages."""
    audit_pages: dict[str, str] = {}
    for model in sources.models.values():
        for record in model.audits:
            base = f"audits/{model.slug}/{page_slug(record.result.model.version)}/{record.slug}"
            candidate, counter = base, 2
            while f"{candidate}/index.md" in audit_pages.values():
                candidate, counter = f"{base}-{counter}", counter + 1
            audit_pages[record.result.audit_id] = f"{candidate}/index.md"
    return audit_pages


def _page_paths(sources: SiteSources, frameworks: list[Any]) -> _PagePaths:
    models = sources.models
    return _PagePaths(
        models={name: f"models/{model.slug}.md" for name, model in models.items()},
        audits=_audit_paths(sources),
        checklist_models=(
            {name: f"checklists/model-{model.slug}.md" for name, model in models.items()}
            if frameworks
            else {}
        ),
        frameworks={
            checklist.framework: f"checklists/framework-{page_slug(checklist.framework)}.md"
            for checklist in frameworks
        },
        ll144={name: f"ll144/{model.slug}.md" for name, model in models.items() if model.is_aedt},
    )


def _write_model_pages(
    writer: _Writer, sources: SiteSources, paths: _PagePaths, k: int, workspace: Workspace | None = None
) -> list[Any]:
    """Each model's audits, diff pages, ratio figure, card and LL144 summary; returns the Models section of the nav."""
    report = writer.report
    nav_models: list[Any] = []
    for name, model in sources.models.items():
        page = paths.models[name]
        pairs = diff_pairs(model)
        for record in model.audits:
            target = paths.audits[record.result.audit_id]
            section = comparisons_section(
                record.result.audit_id, pairs, lambda to, at=target: _relative(at, to)
            )
            _write_audit(writer, record, target, _relative(target, page), k, comparisons=section)
        for pair in pairs:
            _write_diff(writer, pair, paths, k, workspace)
        figure_files = draw_ratio_figure(model, writer.folder("models", "figures"), f"{model.slug}-ratios")
        report.figure_count += len(figure_files)
        trend_files = draw_trend_figure(model, writer.folder("models", "figures"), f"{model.slug}-monitoring")
        report.figure_count += len(trend_files)
        mitigation = _mitigation_section(writer, sources, model)
        whole = with_whole(model)  # this model's described audits, whole until its pages are written
        latest = whole.latest_audit
        text = render_model_page(
            whole,
            audit_links={audit_id: _relative(page, target) for audit_id, target in paths.audits.items()},
            figure=figure_files[0] if figure_files else None,
            checklist_link=_relative(page, paths.checklist_models[name])
            if name in paths.checklist_models
            else None,
            ll144_link=_relative(page, paths.ll144[name]) if name in paths.ll144 else None,
            min_cell_size=k,
            monitoring_figure=trend_files[0] if trend_files else None,
            mitigation=mitigation,
        )
        writer.page(("models", model.slug), text)
        nav_models.append({nav_title(name): page})
        if name in paths.ll144:
            link = _relative(paths.ll144[name], paths.audits[latest.result.audit_id]) if latest else None
            writer.page(("ll144", model.slug), render_ll144_page(whole, audit_link=link, min_cell_size=k))
    return nav_models


def _mitigation_section(writer: _Writer, sources: SiteSources, model: Any) -> str:
    """The model's mitigation comparisons, published only as the register recorded them."""
    from governance.site.mitigation_section import load_comparisons, render_mitigation, write_figures

    vouchers = sources.vouchers
    if vouchers is None or not vouchers.register:
        return ""
    comparisons = load_comparisons(model, vouchers.workspace_root, vouchers.history_problem)
    if not comparisons:
        return ""
    names = write_figures(comparisons, writer.folder("models", "figures"), model.slug)
    writer.report.figure_count += len(names)
    for comparison in comparisons:
        if comparison.problems:
            writer.report.warnings.append(
                f"The mitigation comparison {comparison.run.get('comparison_path')} was not published: "
                f"{'; '.join(comparison.problems)}."
            )
    return render_mitigation(model, comparisons)


def _write_checklist_pages(
    writer: _Writer, sources: SiteSources, frameworks: list[Any], paths: _PagePaths
) -> tuple[list[Any], dict[str, tuple[str, Any]]]:
    """The checklists index, each model's status and each framework's page.

    Returns the Checklists section of the nav and, per model, its status page (from the checklists folder)
    and status.
    """
    nav_checklists: list[Any] = []
    statuses: dict[str, tuple[str, Any]] = {}
    if not frameworks:
        return nav_checklists, statuses
    links_from_index = {
        framework: target.removeprefix("checklists/") for framework, target in paths.frameworks.items()
    }
    writer.page(
        ("checklists", "index"),
        render_checklists_index(
            frameworks,
            framework_links=links_from_index,
            model_links={
                name: target.removeprefix("checklists/") for name, target in paths.checklist_models.items()
            },
        ),
    )
    nav_checklists.append("generated/checklists/index.md")
    links = ItemLinks(frameworks, paths.frameworks)
    for name, model in sources.models.items():
        page = paths.checklist_models[name]
        status = model_status(model, frameworks, writer.report.broken)
        writer.page(
            ("checklists", f"model-{model.slug}"),
            render_model_status_page(model, status, item_link=links.from_page(page)),
        )
        if status is not None:
            statuses[name] = (page.removeprefix("checklists/"), counts_only(status))
    for checklist in frameworks:
        writer.page(
            tuple(paths.frameworks[checklist.framework].removesuffix(".md").split("/")),
            render_framework_page(checklist, statuses),
        )
        nav_checklists.append(
            {nav_title(checklist.title): f"generated/{paths.frameworks[checklist.framework]}"}
        )
    for name in sources.models:
        nav_checklists.append({nav_title(name): f"generated/{paths.checklist_models[name]}"})
    return nav_checklists, statuses


def _write_policy_pages(
    writer: _Writer, workspace: Workspace, frameworks: list[Any], paths: _PagePaths
) -> list[Any]:
    """The policy documents and their index; returns the Policies section of the nav (empty: no policies)."""
    item_links = ItemLinks(frameworks, paths.frameworks)
    policies = render_policies(
        workspace.policies_dir / "templates",
        workspace.config,
        writer.report.broken,
        item_link=item_links.from_page("policies/page.md"),
    )
    nav_policies: list[Any] = []
    if policies:
        writer.page(("policies", "index"), render_policies_index(policies, workspace.organisation))
        nav_policies.append("generated/policies/index.md")
        for slug, body, _meta in policies:
            if slug == "index":
                slug = "index-policy"
            writer.page(("policies", slug), body)
            nav_policies.append(f"generated/policies/{slug}.md")
    return nav_policies


def _write_register_page(
    writer: _Writer,
    workspace: Workspace,
    sources: SiteSources,
    paths: _PagePaths,
    statuses: dict[str, tuple[str, Any]],
    *,
    has_policies: bool,
    has_checklists: bool,
) -> None:
    """The home page: the register with links to every model, audit and summary, and what needs attention."""
    report = writer.report
    extra_links = []
    if has_policies:
        extra_links.append(("Policies", "policies/index.md"))
    if has_checklists:
        extra_links.append(("Compliance checklists", "checklists/index.md"))
    extra_links += [
        (f"NYC Local Law 144 summary: {markup_text(name)}", target) for name, target in paths.ll144.items()
    ]
    by_name = {name: status for name, (_page, status) in statuses.items()}
    attention = attention_items(
        sources, by_name, AttentionLinks(paths.models, paths.audits, paths.checklist_models)
    )
    from_home = AttentionLinks(  # the home page is one folder up from the generated pages
        *(
            {key: f"generated/{target}" for key, target in links.items()}
            for links in (paths.models, paths.audits, paths.checklist_models)
        )
    )
    report.attention = "\n".join(  # a newcomer reads there what is live, on what evidence, and what to do
        [
            render_attention(
                attention_items(sources, by_name, from_home),
                register_available=sources.register_available,
            ),
            render_models(sources, from_home.models, from_home.audits, heading="What is live"),
        ]
    )
    writer.page(
        ("index",),
        render_register_page(
            sources,
            organisation=workspace.organisation,
            model_links=paths.models,
            audit_links=paths.audits,
            extra_links=extra_links,
            built_at=isoformat(now()),
            attention=render_attention(attention, register_available=sources.register_available),
        ),
    )


def _nav(
    nav_models: list[Any], nav_checklists: list[Any], nav_policies: list[Any], ll144_pages: dict[str, str]
) -> list[Any]:
    """The nav section of the generated pages, in the order the site shows them."""

    def prefixed(entries: list[Any]) -> list[Any]:
        return [{title: f"generated/{target}" for title, target in entry.items()} for entry in entries]

    nav: list[Any] = ["generated/index.md"]
    if nav_models:
        nav.append({"Models": prefixed(nav_models)})
    if nav_checklists:
        nav.append({"Checklists": nav_checklists})
    if nav_policies:
        nav.append({"Policies": nav_policies})
    if ll144_pages:
        nav.append(
            {"NYC LL144": [{nav_title(name): f"generated/{target}"} for name, target in ll144_pages.items()]}
        )
    return nav


def write_generated(
    workspace: Workspace,
    root: Path,
    report: SiteBuildReport,
    *,
    register_url: str | None,
    sources: SiteSources | None = None,
    previous: Path | None = None,
) -> list[Any]:
    """Write every generated page into ``root``; returns the nav section for them.

    ``previous`` (the last build's pages) lends every file that comes out the same, and every audit folder made
    from the same inputs, so that unchanged work is neither redone nor seen as changed.
    """
    sources = sources or collect(workspace, register_url=register_url)
    writer = _Writer(root, report, previous)
    k = workspace.suppression_threshold
    broken_before = len(report.broken)
    frameworks = load_frameworks(workspace.policies_dir / "checklists", report.broken)
    checklists_broken = report.broken[broken_before:]
    paths = _page_paths(sources, frameworks)

    nav_models = _write_model_pages(writer, sources, paths, k, workspace)
    nav_checklists, statuses = _write_checklist_pages(writer, sources, frameworks, paths)
    if checklists_broken:  # published only with --keep-going
        writer.page(
            ("checklists", "index"), "# Compliance checklists\n\n" + broken_notice(checklists_broken[0])
        )
        nav_checklists.append("generated/checklists/index.md")
    nav_policies = _write_policy_pages(writer, workspace, frameworks, paths)
    _write_register_page(
        writer,
        workspace,
        sources,
        paths,
        statuses,
        has_policies=bool(nav_policies),
        has_checklists=bool(frameworks),
    )
    report.warnings += sources.problems
    return _nav(nav_models, nav_checklists, nav_policies, paths.ll144)


@lru_cache(maxsize=1)
def _diff_code_key() -> str:
    """The code a comparison page is made with (that of the audit pages, the comparison and the page's own)."""
    from governance import compare
    from governance.site import diff_pages

    digest = hashlib.sha256(_code_key().encode())
    for path in [*sorted(Path(str(compare.__file__)).parent.glob("*.py")), Path(str(diff_pages.__file__))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _diff_key(pair: DiffPair, links: tuple[str, str], k: int, tolerance: float) -> str:
    """What a comparison page is made from: both audits' checked bytes and checks, the tolerance, k, its links."""
    parts = {
        "code": _diff_code_key(),
        "audits": [
            (record.digest, record.check.status, record.check.problems)
            for record in (pair.before, pair.after)
        ],
        "why": pair.why,
        "links": links,
        "k": k,
        "tolerance": tolerance,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _write_diff(
    writer: _Writer, pair: DiffPair, paths: _PagePaths, k: int, workspace: Workspace | None
) -> None:
    """One "what changed" page between two audits (:mod:`governance.site.diff_pages`), linked from the previous
    build when made from the same inputs (comparing resamples every group: the costliest page of a rebuild)."""
    from governance.compare import compare_audits
    from governance.compare.run import policy_monitoring

    links = (
        _relative(pair.page, paths.audits[pair.before.result.audit_id]),
        _relative(pair.page, paths.audits[pair.after.result.audit_id]),
    )
    policy = pair.after.result.policy
    try:  # the policy's monitoring settings: read from its file, named with its hash in the slim copy too
        tolerance = writer.tolerances.get((policy.policy_path, policy.policy_sha256), -1.0)
        if tolerance < 0:
            tolerance = (
                policy_monitoring(pair.after.result, workspace).diff_tolerance
                if workspace is not None
                else 0.05
            )
            writer.tolerances[(policy.policy_path, policy.policy_sha256)] = tolerance
    except Exception as exc:  # another module's code: this page is broken, the rest is built
        writer.report.broken.append(
            f"The comparison of audits {pair.before.result.audit_id} and {pair.after.result.audit_id} could not "
            f"be made ({exc})."
        )
        return
    key = _diff_key(pair, links, k, tolerance)
    if writer.reuse_page(pair.page, key):
        return
    before, after = pair.before.full(), pair.after.full()
    try:
        diff = compare_audits(before, after, tolerance=tolerance)
    except Exception as exc:  # another module's code: this page is broken, the rest is built
        writer.report.broken.append(
            f"The comparison of audits {before.audit_id} and {after.audit_id} could not be made ({exc})."
        )
        return
    hidden = {
        name: hidden_groups(before, k).get(name, set()) | hidden_groups(after, k).get(name, set())
        for name in {*hidden_groups(before, k), *hidden_groups(after, k)}
    }
    text = render_diff_page(diff, pair, links=links, hidden=hidden, k=k)
    unvouched = [r.result.audit_id for r in (pair.before, pair.after) if r.check.status == "not-verified"]
    if unvouched:
        text += (
            f"\n**Not verified:** the register does not vouch for {', '.join(map(markup_text, unvouched))}; "
            "read this comparison with care.\n"
        )
    writer.page(tuple(pair.page.removesuffix(".md").split("/")), text)
    writer.page_key(pair.page, key)


def _write_audit(
    writer: _Writer, record: AuditRecord, audit_page: str, model_link: str, k: int, *, comparisons: str = ""
) -> None:
    """One audit's page, its details file and figures; linked from the previous build when made from the same inputs.

    ``comparisons``: the section linking the audit's diff pages, put at the end of its page.
    """
    report = writer.report
    folder_name = audit_page.rsplit("/", 1)[0]
    key = _audit_key(record, model_link=model_link, k=k, comparisons=comparisons)
    figures = writer.reuse(folder_name, key)
    if figures is not None:
        report.pages.append(audit_page)
        report.figure_count += len(figures)
        return
    broken_before = len(report.broken)
    folder = writer.folder(*folder_name.split("/"))
    result = record.full()  # parsed for this page only, then dropped: memory stays flat
    figures = _write_figures(record, result, folder / "figures", report, writer)
    figures = _mask_figures(result, folder / "figures", figures, k, report)
    report.figure_count += len(figures)
    details: list[str] = []
    text = render_audit_page(
        result,
        figures=figures,
        min_cell_size=k,
        model_link=model_link,
        warnings=report.warnings,
        check=record.check,
        details=details,
    )
    writer.page((*folder_name.split("/"), "index"), text + comparisons)
    if details:
        writer.store(folder / DETAILS_PAGE, render_details_html(result, details[0]).encode("utf-8"))
    if len(report.broken) == broken_before:  # a page with a broken part is made again next time
        (folder / KEY_FILE).write_text(key, encoding="utf-8")


def _write_figures(
    record: AuditRecord,
    result: AuditResult,
    target: Path,
    report: SiteBuildReport,
    writer: _Writer | None = None,
) -> list[str]:
    """Write the audit's checked SVG and PNG figures under slugified names; returns the names written.

    The bytes are those the register's hashes were checked against: read again here (never through a link) and
    published only when identical to the bytes checked (see ``AuditCheck.figure_bytes``).
    An audit recorded before manifests has only its audit.json vouched for: its figures are drawn from it.
    """
    if record.check.redraw:
        try:
            from governance.report.figures import write_figures

            written = write_figures(result, target)
        except Exception as exc:  # another module's drawing code: leave the figures out rather than copy them
            report.broken.append(
                f"The figures of audit {result.audit_id} could not be drawn ({exc}); they are left out."
            )
            return []
        drawn = {name for svg in written.values() for name in (svg, Path(svg).with_suffix(".png").name)}
        return sorted(name for name in drawn if (target / name).is_file())
    copied = []
    for name in sorted(record.check.figures):
        destination = safe_join(target.parent, "figures", name)
        destination.parent.mkdir(parents=True, exist_ok=True)
        data = record.check.figure_bytes(name)
        if writer is not None:
            writer.store(destination, data)
        else:
            destination.write_bytes(data)
        copied.append(destination.name)
    return copied


def _mask_figures(
    result: AuditResult, folder: Path, figures: list[str], k: int, report: SiteBuildReport
) -> list[str]:
    """Redraw the audit's group figures without the masked groups (the audit folder's show every group).

    If they cannot be redrawn, the group and impact-ratio figures are left out rather than published unmasked.
    """
    hidden = hidden_groups(result, k)  # the same groups the page's tables hide, across all of them
    if not any(hidden.values()):
        return figures
    kept = []
    for name in figures:  # the copies show every group: remove them, then draw what may be shown
        if name.startswith(("groups-", "impact-")):
            (folder / name).unlink(missing_ok=True)
        else:
            kept.append(name)
    try:
        from governance.report.figures import write_figures

        written = write_figures(
            result, folder, hidden={name: sorted(groups) for name, groups in hidden.items()}
        )
    except Exception as exc:  # another module's drawing code: never publish the unmasked figures instead
        report.broken.append(
            f"The figures of audit {result.audit_id} could not be redrawn without small groups ({exc}); "
            "its group figures are left out of the site."
        )
        return kept
    drawn = {name for svg in written.values() for name in (svg, Path(svg).with_suffix(".png").name)}
    return sorted(set(kept) | {name for name in drawn if (folder / name).is_file()})


@contextmanager
def _build_lock(workspace: Workspace) -> Iterator[None]:
    """One build at a time per workspace (a lock on its folder, no file); a second one is refused, not raced."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock
        yield
        return
    descriptor = os.open(workspace.root, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise SiteError(
                "Another `governance site build` is running in this workspace; wait for it to finish."
            ) from exc
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def build_site(
    workspace: Workspace,
    *,
    run_mkdocs: bool = True,
    strict: bool = True,
    register_url: str | None = None,
    allow_unverified: bool = False,
    keep_going: bool = False,
) -> SiteBuildReport:
    """Write ``docs/generated/`` from the workspace and, unless ``run_mkdocs`` is false, build the site.

    Audits are read through the register's recorded hashes: anything it does not vouch for stops the build
    (``UnverifiedAuditError``, exit 1) unless ``allow_unverified``, which publishes those pages marked in red.
    ``site/`` is built beside the old one and swapped in with renames, so it is whole at every moment.
    A page, template or checklist that cannot be rendered stops the build before anything is replaced
    (``SiteRenderError``, exit 1); with ``keep_going`` the rest is built, those pages say they are broken, and
    ``report.broken`` lists them for the caller to fail on.
    """
    generated = workspace.generated_dir
    report = SiteBuildReport(generated_dir=generated)
    config_file = workspace.root / "mkdocs.yml"
    if run_mkdocs and not config_file.is_file():
        raise SiteError(f"There is no mkdocs.yml in {workspace.root}; run `governance init` there first.")
    with _build_lock(workspace):  # SIGTERM: the command line raises Terminated, which runs the same clean-up
        nav = _write_pages(
            workspace,
            report,
            register_url=register_url,
            allow_unverified=allow_unverified,
            keep_going=keep_going,
        )
        if run_mkdocs:
            from governance.site.mkdocs_run import run_mkdocs as run

            site_dir, warnings = run(
                config_file, strict=strict, generated_nav=nav, home_block=report.attention
            )
            report.site_dir = site_dir
            report.warnings += warnings
    return report


def _write_pages(
    workspace: Workspace,
    report: SiteBuildReport,
    *,
    register_url: str | None,
    allow_unverified: bool,
    keep_going: bool,
) -> list[Any]:
    """Write ``docs/generated/`` whole and swap it in; returns the nav for MkDocs.

    What the pages were made from (every audit's slim copy, the register's rows) is dropped on return, before
    MkDocs starts, so that the build never holds both at once.
    """
    generated = workspace.generated_dir
    clear_debris(generated)
    sources = collect(workspace, register_url=register_url, cache=workspace.state_dir / SLIM_CACHE)
    if sources.vouchers is not None:
        sources.vouchers.refuse_unless(allow_unverified, report.warnings)
        sources.vouchers.forget_folders()
    temporary = staging_folder(generated)
    try:
        nav = write_generated(
            workspace, temporary, report, register_url=register_url, sources=sources,
            previous=generated if generated.is_dir() else None,
        )  # fmt: skip
        if report.broken and not keep_going:
            raise SiteRenderError(broken_message(report.broken))
        swap_in(temporary, generated)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        forget_parsed()
    return nav


def broken_message(broken: list[str], *, kept_going: bool = False) -> str:
    """What could not be rendered, and the way on (fix it, or build the rest with ``--keep-going``)."""
    listed = " ".join(item if item.endswith(".") else f"{item}." for item in broken)
    count = "1 part" if len(broken) == 1 else f"{len(broken)} parts"
    if kept_going:
        return f"{count} of the site could not be built and are marked broken on it: {listed} Fix them and build again."
    return (
        f"{count} of the site could not be built, so nothing was replaced: {listed} Fix them and build again, or "
        "pass --keep-going to build the rest with those pages marked broken."
    )
