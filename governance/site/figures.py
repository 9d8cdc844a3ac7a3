"""The model page's figure: key fairness ratios across versions, with their intervals.

Drawn with matplotlib (imported here, not at start-up) as SVG and PNG; the SVG is written without a date or
random ids so that rebuilding an unchanged workspace gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path

from governance.site.sources import AuditRecord, ModelEntry

KEY_RATIOS = ("demographic_parity_ratio", "equalized_odds_ratio")
RATIO_LABELS = {
    "demographic_parity_ratio": "selection-rate ratio",
    "equalized_odds_ratio": "equalized-odds ratio",
}


def ratio_series(model: ModelEntry) -> dict[str, list[tuple[str, float, float | None, float | None]]]:
    """Per ``attribute: ratio``: (version, value, low, high) from each version's latest audit, oldest first."""
    latest_per_version: dict[str, tuple[str, AuditRecord]] = {}
    for record in sorted(model.audits, key=lambda record: record.created_at):
        latest_per_version[record.result.model.version] = (record.created_at, record)
    series: dict[str, list[tuple[str, float, float | None, float | None]]] = {}
    ordered = sorted(latest_per_version.items(), key=lambda item: item[1][0])
    for version, (_, record) in ordered:
        for attribute in record.result.fairness.attributes:
            if attribute.is_intersection or attribute.positive_class is not None:
                continue
            for key in KEY_RATIOS:
                found = attribute.summaries.get(key)
                if found is None or found.value is None:
                    continue
                label = f"{attribute.attribute}: {RATIO_LABELS[key]}"
                series.setdefault(label, []).append((version, found.value, found.low, found.high))
    return series


def draw_ratio_figure(model: ModelEntry, folder: Path, stem: str) -> list[str]:
    """Write ``stem.svg`` and ``stem.png`` into ``folder``; returns the file names (none without data)."""
    series = ratio_series(model)
    if not series:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    versions: list[str] = []
    for points in series.values():
        for version, *_ in points:
            if version not in versions:
                versions.append(version)
    position = {version: index for index, version in enumerate(versions)}
    plt.rcParams["svg.hashsalt"] = "governance"
    plt.style.use("tableau-colorblind10")  # told apart with every common colour-vision deficiency
    figure, axes = plt.subplots(figsize=(7.2, 3.8), dpi=100)  # the width of the page's content column
    try:
        for offset, (label, points) in enumerate(sorted(series.items())):
            shift = (offset - (len(series) - 1) / 2) * 0.06
            xs = [position[version] + shift for version, *_ in points]
            ys = [value for _, value, _, _ in points]
            # a percentile interval can sit wholly to one side of its point estimate; draw no negative bar
            lower = [max(0.0, value - low) if low is not None else 0.0 for _, value, low, _ in points]
            upper = [max(0.0, high - value) if high is not None else 0.0 for _, value, _, high in points]
            axes.errorbar(xs, ys, yerr=[lower, upper], marker="o", capsize=4, label=label)
        axes.axhline(0.8, color="#212121", linestyle="--", linewidth=1, label="four-fifths line (0.8)")
        axes.set_xticks(range(len(versions)), versions)
        axes.set_xlabel("version")
        axes.set_ylabel("ratio (1 = equal)")
        axes.set_ylim(0, 1.05)
        axes.set_title("Key fairness ratios by version, with confidence intervals")
        axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)
        figure.tight_layout()
        folder.mkdir(parents=True, exist_ok=True)
        figure.savefig(folder / f"{stem}.svg", format="svg", metadata={"Date": None})
        figure.savefig(folder / f"{stem}.png", format="png", metadata={"Software": None})
    finally:
        plt.close(figure)
    return [f"{stem}.svg", f"{stem}.png"]
