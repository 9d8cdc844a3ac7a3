"""The commands of docs/guide/warehouse.md, section by section, so that CI runs the page's examples."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from click.testing import CliRunner

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "guide" / "warehouse.md"


def section_blocks(heading: str, language: str) -> list[str]:
    """The code blocks of one ``## heading`` section in ``language``."""
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)


def commands(heading: str, replace: dict[str, str] | None = None) -> list[list[str]]:
    """Each ``export`` and ``governance`` command of the section's bash blocks, as argument lists."""
    found: list[list[str]] = []
    for block in section_blocks(heading, "bash"):
        for replaced_from, replaced_to in (replace or {}).items():
            block = block.replace(replaced_from, replaced_to)
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip():
                found.append([word.replace("\\`", "`") for word in shlex.split(line.replace("\\`", "\x00"))])
    return [[word.replace("\x00", "`") for word in words] for words in found]


def run_section(heading: str, workspace: Path, replace: dict[str, str] | None = None) -> list[Any]:
    """Run the section's commands in ``workspace`` (the current folder), each in this process."""
    from governance.cli.main import cli

    env: dict[str, str] = {}
    results = []
    for words in commands(heading, replace):
        if words[0] == "export":
            name, value = words[1].split("=", 1)
            env[name] = value
            continue
        assert words[0] == "governance", words
        args = [*words[1:], "--workspace", str(workspace), "--n-boot", "20", "--no-figures"]
        run = CliRunner(env=env).invoke(cli, args)
        assert run.exit_code in (0, 1, 3), (words, run.output)
        results.append(run)
    assert results, f"the section {heading!r} has no governance command"
    return results


def decisions(n: int = 800, seed: int = 5) -> pd.DataFrame:
    """The guide's table: decisions with outcomes, two sensitive columns and a region."""
    rng = np.random.default_rng(seed)
    performed = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], n),
            "race": rng.choice(["a", "b", "c"], n),
            "region": rng.choice(["north", "south"], n),
            "performed": performed,
            "hired": np.where(rng.random(n) < 0.8, performed, 1 - performed),
        }
    )
