"""What changed between two audits (``governance audit diff``).

Public API: ``diff_audits(a, b, ...)`` -> ``AuditDiff``; ``compare_audits(before, after)`` for two results in
memory. Computes only: never prints or writes files.
"""

from governance.compare.diff import compare_audits
from governance.compare.run import diff_audits

__all__ = ["compare_audits", "diff_audits"]
