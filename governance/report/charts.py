"""Small charts drawn without matplotlib: the same primitives written as SVG text and as a PNG (Pillow).

The audit's fairness figures are simple (points with intervals per group, bars against a line), and matplotlib
spends seconds laying out and drawing a dozen of them; these take milliseconds, so an audit of saved predictions
never imports matplotlib. Output is deterministic: the same result gives byte-identical files.
"""

from __future__ import annotations

import html
import importlib.util
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"
PNG_SCALE = 1.5
INK = "#212121"
MUTED = "#757575"
GRID = "#e0e0e0"


@lru_cache(maxsize=16)
def _font(size: float, bold: bool) -> Any:
    """DejaVu Sans (shipped with matplotlib's data files) at ``size`` pixels, or Pillow's own font."""
    from PIL import ImageFont

    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
        path = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf" / name
        if path.is_file():
            return ImageFont.truetype(str(path), size=max(1, round(size)))
    return ImageFont.load_default(size=max(1, round(size)))


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width of ``text`` in pixels at ``size``: measured at the PNG's scale (whose font size is rounded),
    with 4 % to spare for the browser's own font in the SVG."""
    return float(_font(size * PNG_SCALE, bold).getlength(text)) / PNG_SCALE * 1.04


def blend(colour: str, opacity: float) -> str:
    """``colour`` at ``opacity`` over white, as an opaque colour (the same in SVG and PNG)."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(opacity * c + (1 - opacity) * 255) for c in (red, green, blue)]
    return "#" + "".join(f"{c:02x}" for c in mix)


@dataclass
class Canvas:
    """A list of drawing primitives in pixels, origin top left."""

    width: float
    height: float
    items: list[tuple[Any, ...]] = field(default_factory=list)

    def line(
        self,
        x1: float,
        y1: float,
        x2: float,
        y2: float,
        *,
        colour: str = INK,
        width: float = 1.0,
        dash: bool = False,
    ) -> None:
        self.items.append(("line", x1, y1, x2, y2, colour, width, dash))

    def rect(self, x: float, y: float, w: float, h: float, *, fill: str) -> None:
        self.items.append(("rect", x, y, w, h, fill))

    def circle(self, cx: float, cy: float, r: float, *, fill: str) -> None:
        self.items.append(("circle", cx, cy, r, fill))

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 12,
        anchor: str = "start",
        colour: str = INK,
        bold: bool = False,
    ) -> None:
        """Text vertically centred on ``y``; ``anchor`` is start, middle or end."""
        self.items.append(("text", x, y, text, size, anchor, colour, bold))

    def to_svg(self) -> str:
        out = [
            '<?xml version="1.0" encoding="utf-8"?>',
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.0f}" height="{self.height:.0f}" '
            f'viewBox="0 0 {self.width:.0f} {self.height:.0f}" font-family="{FONT_FAMILY}">',
            f'<rect x="0" y="0" width="{self.width:.0f}" height="{self.height:.0f}" fill="#ffffff"/>',
        ]
        for item in self.items:
            kind = item[0]
            if kind == "line":
                _, x1, y1, x2, y2, colour, width, dash = item
                dashes = ' stroke-dasharray="5,4"' if dash else ""
                out.append(
                    f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="{width:g}"{dashes}/>'
                )
            elif kind == "rect":
                _, x, y, w, h, fill = item
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"/>'
                )
            elif kind == "circle":
                _, cx, cy, r, fill = item
                out.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:g}" fill="{fill}"/>')
            else:
                _, x, y, text, size, anchor, colour, bold = item
                weight = ' font-weight="bold"' if bold else ""
                out.append(
                    f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
                    f'dominant-baseline="central" fill="{colour}"{weight}>{html.escape(text)}</text>'
                )
        out.append("</svg>")
        return "\n".join(out) + "\n"

    def to_png(self, path: Path, *, scale: float = PNG_SCALE) -> None:
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (math.ceil(self.width * scale), math.ceil(self.height * scale)), "#ffffff")
        draw = ImageDraw.Draw(image)
        for item in self.items:
            kind = item[0]
            if kind == "line":
                _, x1, y1, x2, y2, colour, width, dash = item
                _png_line(
                    draw,
                    x1 * scale,
                    y1 * scale,
                    x2 * scale,
                    y2 * scale,
                    colour,
                    max(1, round(width * scale)),
                    dash,
                    scale,
                )
            elif kind == "rect":
                _, x, y, w, h, fill = item
                if w > 0:
                    draw.rectangle([x * scale, y * scale, (x + w) * scale, (y + h) * scale], fill=fill)
            elif kind == "circle":
                _, cx, cy, r, fill = item
                draw.ellipse(
                    [(cx - r) * scale, (cy - r) * scale, (cx + r) * scale, (cy + r) * scale], fill=fill
                )
            else:
                _, x, y, text, size, anchor, colour, bold = item
                code = {"start": "lm", "middle": "mm", "end": "rm"}[anchor]
                draw.text(
                    (x * scale, y * scale), text, font=_font(size * scale, bold), fill=colour, anchor=code
                )
        image.save(path, format="PNG", optimize=False)

    def save(self, folder: Path, stem: str) -> str:
        """Write ``stem.svg`` and ``stem.png``; returns the SVG's file name."""
        (folder / f"{stem}.svg").write_text(self.to_svg(), encoding="utf-8")
        self.to_png(folder / f"{stem}.png")
        return f"{stem}.svg"


def _png_line(
    draw: Any, x1: float, y1: float, x2: float, y2: float, colour: str, width: int, dash: bool, scale: float
) -> None:
    if not dash:
        draw.line([(x1, y1), (x2, y2)], fill=colour, width=width)
        return
    length = math.hypot(x2 - x1, y2 - y1)
    if length == 0:
        return
    on, off = 5 * scale, 4 * scale
    step_x, step_y = (x2 - x1) / length, (y2 - y1) / length
    position = 0.0
    while position < length:
        end = min(position + on, length)
        draw.line(
            [(x1 + step_x * position, y1 + step_y * position), (x1 + step_x * end, y1 + step_y * end)],
            fill=colour,
            width=width,
        )
        position += on + off


def nice_ticks(upper: float) -> list[float]:
    """Round tick values from 0 to at least ``upper`` (0, 0.2, ..., 1 for rates)."""
    if upper <= 0:
        return [0.0, 1.0]
    step = nice_step(upper / 5)
    count = math.ceil(upper / step - 1e-9)
    return [round(i * step, 10) for i in range(count + 1)]


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 and 10 times a power of ten that is at least ``raw`` (> 0)."""
    magnitude: float = 10 ** math.floor(math.log10(raw))  # an int from 1 up, as the ticks always had
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def tick_label(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Point:
    """One group's value with its interval (``None`` where undefined)."""

    value: float | None
    low: float | None = None
    high: float | None = None


# Okabe-Ito colours: told apart with every common colour-vision deficiency.
BLUE = "#0072B2"
LIGHT_BLUE = "#56B4E9"
VERMILLION = "#D55E00"
PANELS_PER_ROW = 2  # so that the figure keeps its natural size on a page instead of shrinking to fit
PAGE_WIDTH = 720.0  # the site's content column at desktop width: plots narrow down to fit beside long labels


def fitted_width(canvas_width: float, *texts: tuple[str, float, bool]) -> float:
    """The canvas width, widened so that every ``(text, size, bold)`` drawn from x = 10 fits with a margin."""
    return max([canvas_width, *(10 + text_width(text, size, bold=bold) + 14 for text, size, bold in texts)])


def dot_whisker_panels(
    *, title: str, labels: list[str], panels: list[tuple[str, list[Point], float | None]], note: str = ""
) -> Canvas:
    """One row per label, one panel per metric (two panels side by side, then the next row): a dot at the
    value, a whisker over the interval, and a dashed line at the reference value (everyone)."""
    size, row_height, gap = 13.0, 28.0, 34.0
    label_width = max((text_width(label, size) for label in labels), default=40.0) + 16
    top, panel_head, panel_foot = 58.0, 30.0, 34.0
    columns = min(PANELS_PER_ROW, max(1, len(panels)))
    panel_width = max(170.0, min(250.0, (PAGE_WIDTH - label_width) / columns - gap))
    rows = math.ceil(len(panels) / columns) if panels else 1
    block = panel_head + row_height * max(1, len(labels)) + panel_foot
    width = fitted_width(
        label_width + columns * (panel_width + gap) + 6, (title, 14, True), (note, 12, False)
    )
    canvas = Canvas(width, top + rows * block + 6)
    canvas.text(10, 18, title, size=14, bold=True)
    if note:
        canvas.text(10, 38, note, size=12, colour=MUTED)
    for number, (panel_title, points, reference) in enumerate(panels):
        left = label_width + (number % columns) * (panel_width + gap)
        plot_top = top + (number // columns) * block + panel_head
        shown = labels if number % columns == 0 else []  # rows line up, so the labels are drawn once per row
        _dot_panel(canvas, (left, plot_top, panel_width), (labels, shown), panel_title, points, reference)
    return canvas


def _dot_panel(
    canvas: Canvas,
    frame: tuple[float, float, float],
    labels: tuple[list[str], list[str]],
    panel_title: str,
    points: list[Point],
    reference: float | None,
) -> None:
    """One metric's panel: its rows' labels (``shown``, empty right of the first column), ticks, dots, whiskers."""
    left, plot_top, panel_width = frame
    rows, shown = labels
    row_height = 28.0
    plot_bottom = plot_top + row_height * len(rows)
    for index, label in enumerate(shown):
        canvas.text(left - 10, plot_top + row_height * (index + 0.5), label, size=13, anchor="end")
    highs = [p.high if p.high is not None else p.value for p in points if p.value is not None]
    ticks = nice_ticks(max([1.0, *(h for h in highs if h is not None)]))
    span = ticks[-1] or 1.0

    def x_of(value: float) -> float:
        return left + panel_width * max(0.0, min(value, span)) / span

    canvas.text(left + panel_width / 2, plot_top - 14, panel_title, size=13, anchor="middle", bold=True)
    for tick in ticks:
        canvas.line(x_of(tick), plot_top, x_of(tick), plot_bottom, colour=GRID)
        canvas.text(x_of(tick), plot_bottom + 13, tick_label(tick), size=11, anchor="middle", colour=MUTED)
    canvas.line(left, plot_bottom, left + panel_width, plot_bottom, colour=MUTED)
    if reference is not None:
        canvas.line(
            x_of(reference),
            plot_top - 2,
            x_of(reference),
            plot_bottom,
            colour="#616161",
            width=1.2,
            dash=True,
        )
    for index, point in enumerate(points):
        if point.value is None:
            continue
        y = plot_top + row_height * (index + 0.5)
        if point.low is not None and point.high is not None:
            canvas.line(x_of(point.low), y, x_of(point.high), y, colour=LIGHT_BLUE, width=2.2)
            for end in (point.low, point.high):
                canvas.line(x_of(end), y - 5, x_of(end), y + 5, colour=LIGHT_BLUE, width=2.2)
        canvas.circle(x_of(point.value), y, 5.0, fill=BLUE)


def impact_bars(
    *, title: str, labels: list[str], points: list[Point], line: float, line_label: str, axis_label: str
) -> Canvas:
    """Horizontal bars of impact ratios with their intervals: vermillion below ``line``, blue at or above,
    with a legend, so that the colours are not the only cue."""
    size, row_height = 13.0, 28.0
    label_width = max((text_width(label, size) for label in labels), default=40.0) + 16
    plot_width = max(260.0, min(400.0, PAGE_WIDTH - label_width - 30))
    top, bottom = 70.0, 56.0
    width = fitted_width(label_width + plot_width + 30, (title, 14, True))
    canvas = Canvas(width, top + row_height * max(1, len(labels)) + bottom)
    canvas.text(10, 18, title, size=14, bold=True)
    _impact_legend(canvas, line)
    highs = [p.high if p.high is not None else p.value for p in points if p.value is not None]
    ticks = nice_ticks(max([1.0, *(h for h in highs if h is not None)]))
    span = ticks[-1] or 1.0
    left, plot_top = label_width, top
    plot_bottom = top + row_height * len(labels)

    def x_of(value: float) -> float:
        return left + plot_width * max(0.0, min(value, span)) / span

    for tick in ticks:
        canvas.line(x_of(tick), plot_top, x_of(tick), plot_bottom, colour=GRID)
        canvas.text(x_of(tick), plot_bottom + 13, tick_label(tick), size=11, anchor="middle", colour=MUTED)
    canvas.line(left, plot_bottom, left + plot_width, plot_bottom, colour=MUTED)
    canvas.text(left + plot_width / 2, plot_bottom + 36, axis_label, size=12, anchor="middle", colour=MUTED)
    for index, (label, point) in enumerate(zip(labels, points, strict=True)):
        y = plot_top + row_height * (index + 0.5)
        canvas.text(left - 10, y, label, size=size, anchor="end")
        if point.value is None:
            continue
        colour = VERMILLION if point.value < line else BLUE
        canvas.rect(left, y - 9, x_of(point.value) - left, 18, fill=blend(colour, 0.6))
        if point.low is not None and point.high is not None:
            canvas.line(x_of(point.low), y, x_of(point.high), y, colour=INK, width=1.6)
            for end in (point.low, point.high):
                canvas.line(x_of(end), y - 5, x_of(end), y + 5, colour=INK, width=1.6)
    canvas.line(x_of(line), plot_top - 6, x_of(line), plot_bottom, colour=INK, width=1.4, dash=True)
    _line_label(canvas, x_of(line), plot_top - 14, line_label)
    return canvas


def _impact_legend(canvas: Canvas, line: float) -> None:
    entries = [(blend(BLUE, 0.6), f"at or above {line:g}"), (blend(VERMILLION, 0.6), f"below {line:g}")]
    swatch_legend(canvas, entries, 44.0)


def swatch_legend(canvas: Canvas, entries: list[tuple[str, str]], y: float, *, per_line: int = 3) -> None:
    """Colour swatches with their words, ``per_line`` to a line, so that colour is not the only cue."""
    x = 10.0
    for number, (colour, words) in enumerate(entries):
        if number and number % per_line == 0:
            x, y = 10.0, y + 18
        canvas.rect(x, y - 6, 14, 12, fill=colour)
        canvas.text(x + 20, y, words, size=12, colour=INK)
        x += 20 + text_width(words, 12) + 22


def _line_label(canvas: Canvas, x: float, y: float, text: str) -> None:
    """The bound's label beside its line, on whichever side keeps it inside the figure."""
    if x + 4 + text_width(text, 11) + 6 <= canvas.width:
        canvas.text(x + 4, y, text, size=11, colour=INK)
    else:
        canvas.text(x - 4, y, text, size=11, anchor="end", colour=INK)
