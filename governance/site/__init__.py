"""The policy site: policies, checklists, audit reports, model cards and the register as a MkDocs site.

``build_site`` is the entry point; it is the only writer of ``docs/generated/``.
"""

from governance.site.build import SiteBuildReport, build_site

__all__ = ["SiteBuildReport", "build_site"]
