"""An engine's exact decimals (NUMERIC, DECIMAL) become the plain numbers a file gives, whatever their size."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from governance.intake.values import plain, plain_column, plain_frame


def test_a_decimal_column_whose_first_rows_are_null_is_still_numbers() -> None:
    """The check for decimals looks past the leading NULLs (before: 1000 of them left the Decimals in place)."""
    frame = plain_frame(pd.DataFrame({"amount": [None] * 1000 + [Decimal("1.5"), Decimal("2")]}))
    assert frame["amount"].dtype == "float64" and frame["amount"].tolist()[-2:] == [1.5, 2.0]


def test_a_decimal_beyond_int64_or_float_range_is_a_float() -> None:
    """PostgreSQL's NUMERIC holds 1e400: it is infinite as a float, as a file's 1e400 is read (before: an
    OverflowError from the frame)."""
    values = [Decimal("1E+400"), Decimal("-1E+400"), Decimal(10**30), Decimal(1), None]
    assert plain_column(values) == [float("inf"), float("-inf"), 1e30, 1, None]
    frame = plain_frame(pd.DataFrame({"amount": values}))
    assert frame["amount"].tolist()[:4] == [float("inf"), float("-inf"), 1e30, 1.0]
    assert plain(Decimal(2**63 - 1)) == 2**63 - 1 and isinstance(plain(Decimal(2**63)), float)


def test_nan_and_infinite_decimals_are_floats() -> None:
    assert [plain(Decimal(v)) for v in ("Infinity", "-Infinity", "-0", "2.50")] == [
        float("inf"),
        float("-inf"),
        0,
        2.5,
    ]
    assert plain(Decimal("NaN")) != plain(Decimal("NaN"))
