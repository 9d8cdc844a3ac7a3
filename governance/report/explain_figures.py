"""Figures of the explanation section: importance bars with intervals, a beeswarm, and a per-group comparison.

Each figure is written as SVG (for the site) and PNG (for documents) with matplotlib's Agg backend and
fixed metadata, so the same result gives the same files. Only results are read; nothing is computed here
beyond layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from governance.paths import slugify
from governance.results.explain import ExplanationResult
from governance.results.wording import level_words

MAX_BARS = 15
MAX_GROUP_FEATURES = 8


def _new(width: float, height: float) -> tuple[Any, Any]:
    """A figure outside pyplot (no global state, no GUI backend), and its axes."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def _save(figure: Any, folder: Path, stem: str) -> str:
    """Write ``stem``.svg and ``stem``.png; return the SVG's file name.

    ``tight_layout`` leaves a placeholder layout engine behind, and with one set every ``savefig`` first draws
    the whole figure once more only to lay it out again (it changes nothing after ``tight_layout``): removing it
    draws each file once, the same bytes in about half the time."""
    figure.tight_layout()
    figure.set_layout_engine(None)  # no layout engine (rcParams' autolayout is off)
    figure.savefig(folder / f"{stem}.svg", format="svg", metadata={"Date": None})
    figure.savefig(folder / f"{stem}.png", format="png", dpi=110, metadata={"Software": None})
    return f"{stem}.svg"


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def importance_figure(result: ExplanationResult, folder: Path) -> str:
    """Horizontal bars of mean |SHAP| with their bootstrap intervals, most important on top."""
    import numpy as np

    items = result.importance[:MAX_BARS][::-1]
    values = np.array([item.mean_abs.value or 0.0 for item in items])
    low = np.array(
        [
            item.mean_abs.low if item.mean_abs.low is not None else v
            for item, v in zip(items, values, strict=True)
        ]
    )
    high = np.array(
        [
            item.mean_abs.high if item.mean_abs.high is not None else v
            for item, v in zip(items, values, strict=True)
        ]
    )
    errors = np.vstack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
    colours = ["#b2182b" if item.is_sensitive else "#2166ac" for item in items]
    figure, axis = _new(7, 0.35 * len(items) + 1.2)
    axis.barh(range(len(items)), values, xerr=errors, color=colours, capsize=3, ecolor="#444444")
    axis.set_yticks(range(len(items)), [_short(item.feature) for item in items])
    axis.set_xlabel(f"mean |SHAP| ({result.output_label}), {level_words(result.confidence_level)} interval")
    axis.set_title(f"What drives the model ({result.rows_explained} rows explained)")
    return _save(figure, folder, "explain_importance")


def beeswarm_figure(result: ExplanationResult, folder: Path) -> str | None:
    """One row of dots per feature: each dot a person, placed by its SHAP value, coloured by the value."""
    import numpy as np

    sample = result.beeswarm
    if sample is None or not sample.features:
        return None
    rng = np.random.default_rng(result.seed)
    count = len(sample.features)
    figure, axis = _new(7, 0.45 * count + 1.4)
    scatter = None
    for position, (shap_values, colours) in enumerate(zip(sample.shap, sample.colour, strict=True)):
        y = count - 1 - position
        x = np.asarray(shap_values, dtype=float)
        jitter = rng.uniform(-0.3, 0.3, size=len(x))
        known = np.array([c is not None for c in colours], dtype=bool)
        if (~known).any():
            axis.scatter(x[~known], y + jitter[~known], s=6, color="#999999", alpha=0.6, linewidths=0)
        if known.any():
            scale = np.array([c for c in colours if c is not None], dtype=float)
            scatter = axis.scatter(
                x[known], y + jitter[known], s=6, c=scale, cmap="coolwarm", vmin=0, vmax=1, linewidths=0
            )
    axis.axvline(0, color="#444444", linewidth=0.8)
    axis.set_yticks(range(count), [_short(f) for f in sample.features[::-1]])
    axis.set_xlabel(f"SHAP value ({result.output_label}); right pushes towards the favourable outcome")
    axis.set_title("Each dot is one person (grey: a category)")
    if scatter is not None:
        bar = figure.colorbar(scatter, ax=axis, pad=0.01)
        bar.set_label("value (low to high)")
    return _save(figure, folder, "explain_beeswarm")


def group_figure(result: ExplanationResult, folder: Path, index: int) -> str | None:
    """Mean SHAP per feature for each group of one attribute: grouped horizontal bars."""
    import numpy as np

    attribute = result.by_group[index]
    groups = [g for g in attribute.groups if g.n > 0]
    if not groups:
        return None
    features = [item.feature for item in result.importance[:MAX_GROUP_FEATURES]][::-1]
    height = 0.8 / len(groups)
    figure, axis = _new(7, 0.45 * len(features) * max(1, len(groups) / 2) + 1.4)
    for g, group in enumerate(groups):
        offsets = np.arange(len(features)) + 0.4 - height * (g + 0.5)  # first group on top, as in the legend
        axis.barh(
            offsets,
            [group.mean[f] for f in features],
            height=height,
            label=f"{_short(group.group)} (n={group.n})",
        )
    axis.axvline(0, color="#444444", linewidth=0.8)
    axis.set_yticks(range(len(features)), [_short(f) for f in features])
    axis.set_xlabel(f"mean SHAP ({result.output_label}); right pushes towards the favourable outcome")
    axis.set_title(f"Average push of each feature, by {_short(attribute.attribute)}")
    axis.legend(fontsize="small", loc="best")
    return _save(figure, folder, f"explain_groups_{slugify(attribute.attribute)}")


def write_explanation_figures(result: ExplanationResult, folder: Path) -> dict[str, str]:
    """Write every figure into ``folder`` (created if needed); return {figure key: SVG file name in folder}.

    Keys: ``importance``, ``beeswarm``, and ``groups:<attribute>`` for each sensitive attribute.
    """
    import matplotlib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    with matplotlib.rc_context({"svg.hashsalt": "governance", "font.size": 9}):
        if result.importance:
            written["importance"] = importance_figure(result, folder)
        beeswarm = beeswarm_figure(result, folder)
        if beeswarm:
            written["beeswarm"] = beeswarm
        for index, attribute in enumerate(result.by_group):
            name = group_figure(result, folder, index)
            if name:
                written[f"groups:{attribute.attribute}"] = name
    return written
