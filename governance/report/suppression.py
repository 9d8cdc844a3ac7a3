"""Small-cell suppression for published tables, with complementary suppression.

A published table masks every cell with fewer than ``k`` people. If a slice of the table (the whole table,
or one level of an intersection) has exactly one masked cell and its total is known, the masked value could
be recovered by subtraction, so the smallest other cell in that slice is masked too; repeated until stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def suppressed_cells(sizes: Mapping[str, int], k: int, *, slices: Iterable[Iterable[str]] = ()) -> set[str]:
    """The cells to mask: primary (``0 < n < k``) plus complementary cells so none can be recovered."""
    if k <= 1:
        return set()
    masked = {cell for cell, n in sizes.items() if 0 < n < k}
    if not masked:
        return masked
    groups = [list(sizes)] + [[cell for cell in part if cell in sizes] for part in slices]
    changed = True
    while changed:
        changed = False
        for part in groups:
            hidden = [cell for cell in part if cell in masked]
            visible = sorted((cell for cell in part if cell not in masked and sizes[cell] > 0), key=lambda c: (sizes[c], c))
            if len(hidden) == 1 and visible:
                masked.add(visible[0])
                changed = True
    return masked
