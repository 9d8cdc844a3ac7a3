"""``governance site build`` and ``governance site serve``: thin commands over :mod:`governance.site`."""

from __future__ import annotations

import click

from governance.cli._common import echo, register_url_option, reports_errors, workspace_option


@click.group("site")
def site_group() -> None:
    """Build or serve the policy site: policies, checklists, audit reports, model cards and the register."""


@site_group.command("build")
@workspace_option
@register_url_option
@click.option("--no-mkdocs", is_flag=True, help="Only write docs/generated/; do not run MkDocs.")
@click.option(
    "--strict/--no-strict",
    default=True,
    show_default=True,
    help="Fail the build on any MkDocs warning (a broken link, a missing page).",
)
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Publish audits whose files do not match the register's recorded hashes, each page marked "
    "'not verified' in red (default: stop the build, exit 1).",
)
@click.option(
    "--keep-going",
    is_flag=True,
    help="When a policy template, checklist or page cannot be rendered, build the rest with those pages marked "
    "broken, then exit 1 (default: stop before replacing anything, exit 1).",
)
@reports_errors
def build_command(
    workspace_path: str | None,
    register_url: str | None,
    no_mkdocs: bool,
    strict: bool,
    allow_unverified: bool,
    keep_going: bool,
) -> None:
    """Write docs/generated/ from the audits and the register, then build the site into site/.

    Every audit file is checked against the hash the register recorded for it: a changed, missing, added or
    linked file stops the build (exit 1) and is named, unless --allow-unverified. A policy template, checklist
    or page that cannot be rendered stops it too (exit 1, naming the file and line), unless --keep-going. A
    damaged register stops it (exit 4). site/ is replaced whole, so a failed or interrupted build leaves the
    previous site.

    Rebuilds are incremental: audit pages made from unchanged files are kept, and MkDocs renders only the pages
    whose sources changed. A changed mkdocs.yml, nav (a new model), plugin or version, or a removed page, gets a
    full build; delete site/ to force one.

    The built site makes no request to another host, opens from file:// and works behind an internal web
    server; its search works offline.
    """
    from governance.site import build_site
    from governance.workspace import require_workspace

    workspace = require_workspace(workspace_path)
    report = build_site(
        workspace,
        run_mkdocs=not no_mkdocs,
        strict=strict,
        register_url=register_url,
        allow_unverified=allow_unverified,
        keep_going=keep_going,
    )
    for warning in report.warnings:
        echo(f"Warning: {warning}", err=True)
    echo(f"Wrote {len(report.pages)} generated pages to {report.generated_dir}.")
    if report.index_html is not None:
        echo(f"Built the site: open {report.index_html} in a browser, or run `governance site serve`.")
    if report.broken:
        from governance.errors import SiteRenderError
        from governance.site.build import broken_message

        raise SiteRenderError(broken_message(report.broken, kept_going=True))


@site_group.command("serve")
@workspace_option
@register_url_option
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port on localhost."
)
@click.option(
    "--strict/--no-strict", default=True, show_default=True, help="Fail the build on any MkDocs warning."
)
@click.option(
    "--allow-unverified",
    is_flag=True,
    help="Publish audits the register does not vouch for, each page marked 'not verified' in red.",
)
@reports_errors
def serve_command(
    workspace_path: str | None, register_url: str | None, port: int, strict: bool, allow_unverified: bool
) -> None:
    """Build the site (as `site build` does), then serve it on http://127.0.0.1:PORT/ until you press Ctrl+C."""
    from governance.site import build_site
    from governance.site.serve import make_server, serve
    from governance.workspace import require_workspace

    workspace = require_workspace(workspace_path)
    report = build_site(
        workspace, strict=strict, register_url=register_url, allow_unverified=allow_unverified
    )
    for warning in report.warnings:
        echo(f"Warning: {warning}", err=True)
    assert report.site_dir is not None
    server = make_server(report.site_dir, port=port)  # listening before it says so; a busy port: one sentence
    site_dir = report.site_dir

    def tell(stopped: str | None) -> None:  # Ctrl-C or SIGTERM is the way to end this command: exit 0
        if stopped is None:
            echo(f"Serving {site_dir} on http://127.0.0.1:{port}/ (Ctrl+C to stop).")
        else:
            echo(f"Stopped serving ({stopped}); the built site stays in {site_dir}.")

    serve(server, tell)
