"""The matplotlib-free charts: valid SVG and PNG, deterministic, escaped, and drawn where the numbers say."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

from governance.report.charts import Point, dot_whisker_panels, impact_bars, nice_ticks


def test_nice_ticks() -> None:
    assert nice_ticks(1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    assert nice_ticks(1.1) == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert nice_ticks(37.0)[-1] >= 37.0


def test_dot_whisker_chart_is_valid_deterministic_and_escaped(tmp_path: Path) -> None:
    def draw() -> str:
        chart = dot_whisker_panels(
            title="sex",
            labels=["<script>alert(1)</script>", "b"],
            panels=[("Selection rate", [Point(0.5, 0.4, 0.6), Point(None)], 0.55)],
        )
        return chart.save(tmp_path, "chart")

    name = draw()
    first = (tmp_path / name).read_text(encoding="utf-8")
    draw()
    assert (tmp_path / name).read_text(encoding="utf-8") == first
    root = ET.fromstring(first.split("\n", 1)[1])  # parses: well-formed XML
    texts = [element.text for element in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "<script>alert(1)</script>" in texts and "<script>" not in first
    circles = list(root.iter("{http://www.w3.org/2000/svg}circle"))
    assert len(circles) == 1  # the undefined value is not drawn
    with Image.open(tmp_path / "chart.png") as image:
        assert image.format == "PNG" and image.size[0] > 200


def test_impact_bar_lengths_follow_the_ratios(tmp_path: Path) -> None:
    chart = impact_bars(
        title="t",
        labels=["a", "b"],
        points=[Point(0.5, 0.4, 0.6), Point(1.0)],
        line=0.8,
        line_label="0.8",
        axis_label="ratio",
    )
    bars = [
        item for item in chart.items if item[0] == "rect" and item[4] == 18
    ]  # the legend's swatches are smaller
    assert abs(bars[0][3] * 2 - bars[1][3]) < 1e-9  # half the ratio, half the length
    assert bars[0][5] != bars[1][5]  # below the line in another colour
