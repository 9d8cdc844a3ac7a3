"""The organisation's policies: the templates in ``policies/templates/*.md`` with ``governance.yaml`` filled in.

The templates are the organisation's own documents (Markdown it writes and reviews), so their body is kept as
Markdown; values from the front matter shown in the index (owner, version, review date) are escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from governance.errors import GovernanceError
from governance.escaping import markup_text
from governance.paths import page_slug
from governance.site.markdown import broken_notice, table
from governance.yamlload import DuplicateKeyError, load_yaml, read_utf8


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``---``-fenced YAML at the top, and the rest."""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            try:
                meta = load_yaml(text[3:end], source="front matter") or {}
            except (yaml.YAMLError, DuplicateKeyError):
                meta = {}
            return (meta if isinstance(meta, dict) else {}), text[end + 4 :].lstrip("\n")
    return {}, text


def render_policies(
    templates_dir: Path, config: dict[str, Any], broken: list[str], *, item_link: Any = None
) -> list[tuple[str, str, dict[str, Any]]]:
    """(file slug, page Markdown, front matter) for each template, in file-name order.

    A template that cannot be rendered is added to ``broken`` (file and line) and gets a page saying so, which
    only a build with ``--keep-going`` publishes.
    """
    pages: list[tuple[str, str, dict[str, Any]]] = []
    if not templates_dir.is_dir():
        return pages
    from governance.documents import render_policy

    for path in sorted(templates_dir.glob("*.md")):
        try:
            raw = read_utf8(path)
        except GovernanceError as exc:  # not saved as UTF-8: broken like a template that cannot be rendered
            broken.append(str(exc))
            title = markup_text(path.stem.replace("-", " ").capitalize())
            body = f"# {title}\n\n" + broken_notice(f"This policy could not be built: {exc}")
            pages.append((page_slug(path.stem), body, {"broken": True}))
            continue
        meta, body = split_front_matter(raw)
        try:
            rendered_meta, body = split_front_matter(render_policy(path, config, item_link=item_link))
            meta = {**meta, **rendered_meta}
        except GovernanceError as exc:
            broken.append(str(exc))
            title = markup_text(meta.get("title") or path.stem.replace("-", " ").capitalize())
            body = f"# {title}\n\n" + broken_notice(f"This policy could not be built: {exc}")
            pages.append((page_slug(path.stem), body, {**meta, "broken": True}))
            continue
        if not body.lstrip().startswith("# "):
            body = f"# {markup_text(meta.get('title') or path.stem.replace('-', ' ').capitalize())}\n\n{body}"
        pages.append((page_slug(path.stem), body, meta))
    return pages


def render_policies_index(pages: list[tuple[str, str, dict[str, Any]]], organisation: str) -> str:
    """The list of policies with owner, version and next review."""
    rows = []
    for slug, body, meta in pages:
        title = meta.get("title") or body.splitlines()[0].lstrip("# ").strip()
        rows.append(
            [
                f"[{markup_text(title)}]({slug}.md)",
                markup_text(meta.get("owner") or "—"),
                markup_text(meta.get("version") or "—"),
                markup_text(meta.get("review_date") or meta.get("next_review") or "—"),
            ]
        )
    return "\n".join(
        [
            "# Policies\n",
            f"The AI policies of {markup_text(organisation)}, filled in from governance.yaml.\n",
            table(["Policy", "Owner", "Version", "Next review"], rows),
        ]
    )
