"""Figures a person can read: nothing drawn outside the picture, sizes that follow the content, a legend that
does not rely on colour alone, and alt text that says what the figure shows."""

from __future__ import annotations

import pytest

from governance.report.charts import Canvas, Point, dot_whisker_panels, impact_bars, text_width


def _text_extents(canvas: Canvas) -> list[tuple[str, float, float]]:
    """(text, left, right) of every text item, from the same font metrics the PNG is drawn with."""
    found = []
    for item in canvas.items:
        if item[0] != "text":
            continue
        _, x, _y, text, size, anchor, _colour, bold = item
        width = text_width(text, size, bold=bold)
        left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        found.append((text, left, left + width))
    return found


def _labels(count: int, length: int) -> list[str]:
    return [f"{'g' * max(length - 3, 1)}{index:03d}" for index in range(count)]


@pytest.mark.parametrize(("groups", "length"), [(2, 4), (2, 60), (12, 30), (40, 12)])
def test_no_text_is_cut_off(groups: int, length: int) -> None:
    labels = _labels(groups, length)
    points = [Point(0.3 + 0.01 * i, 0.2, 0.5) for i in range(groups)]
    long_note = "dots: the group's value; whiskers: 95 % interval; dashed line: everyone in the data set"
    charts = [
        dot_whisker_panels(
            title="a fairly long attribute name: rates per group",
            labels=labels,
            panels=[(name, points, 0.35) for name in ("Selection rate", "TPR", "FPR")],
            note=long_note,
        ),
        impact_bars(
            title="x: impact ratio with interval",
            labels=labels,
            points=points,
            line=0.8,
            line_label="four-fifths screen (0.8)",
            axis_label="selection rate / the top group's",
        ),
        impact_bars(
            title="x",
            labels=labels,
            points=[Point(0.9, 0.7, 1.0)] * groups,
            line=0.999,
            line_label="four-fifths screen (0.8)",
            axis_label="ratio",
        ),
    ]
    for canvas in charts:
        for text, left, right in _text_extents(canvas):
            assert left >= 0 and right <= canvas.width, (
                f"{text!r} runs outside the figure ({left:.0f}-{right:.0f} of {canvas.width:.0f})"
            )


def test_two_groups_keep_a_readable_size() -> None:
    """Four panels for two groups used to be one strip about 1,000 pixels wide, shrunk to fit the page."""
    points = [Point(0.3, 0.2, 0.4), Point(0.35, 0.3, 0.4)]
    canvas = dot_whisker_panels(
        title="sex: rates per group",
        labels=["female", "male"],
        panels=[(name, points, 0.33) for name in ("Selection rate", "TPR", "FPR", "Precision")],
    )
    assert canvas.width <= 760, "wider than a page's content: the browser would shrink the text"
    assert canvas.height >= 250, "two rows of two panels"
    sizes = {item[4] for item in canvas.items if item[0] == "text"}
    assert min(sizes) >= 11


def test_impact_colours_are_colour_blind_safe_and_explained() -> None:
    canvas = impact_bars(
        title="t",
        labels=["a", "b"],
        points=[Point(0.6, 0.5, 0.7), Point(1.0, 0.9, 1.0)],
        line=0.8,
        line_label="four-fifths screen (0.8)",
        axis_label="ratio",
    )
    fills = {item[5] for item in canvas.items if item[0] == "rect"}
    assert not any(colour in fills for colour in ("#c62828", "#2e7d32")), (
        "red against green is unreadable to many"
    )
    words = [item[3] for item in canvas.items if item[0] == "text"]
    assert "below 0.8" in words and "at or above 0.8" in words, "a legend, so that colour is not the only cue"


def test_alt_text_names_the_groups_and_values(fairness_result_two_groups) -> None:
    from governance.report.figures import group_figure_alt, impact_figure_alt

    attribute = fairness_result_two_groups.attributes[0]
    alt = group_figure_alt(attribute, set(), 0.95)
    assert "selection rate per group" in alt and "female" in alt and "male" in alt and " to " in alt
    impact = impact_figure_alt(attribute, set())
    assert "impact ratio" in impact and "female" in impact


@pytest.fixture
def fairness_result_two_groups():
    import numpy as np
    import pandas as pd

    from governance.audit.fairness import compute_fairness

    rng = np.random.default_rng(3)
    sex = np.repeat(["female", "male"], 200)
    pred = (rng.random(400) < np.where(sex == "female", 0.3, 0.5)).astype(int)
    return compute_fairness(y_pred=pred, sensitive=pd.DataFrame({"sex": sex}), n_boot=50, seed=1)
