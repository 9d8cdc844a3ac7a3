"""Attack tests: a hostile user pads the holdout to shrink the intervals."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from governance.cli.main import cli


def _audit(root: Path, data: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(root),
            "--no-register",
            "--no-figures",
            "-q",
            "--data",
            str(data),
            "--predictions",
            "pred",
            "--sensitive",
            "sex",
            "--id",
            "id",
            "--policy",
            "four-fifths",
        ],
    )
    return result.exit_code, result.output


def test_duplicated_ids_in_the_holdout_are_refused(tmp_path: Path):
    """Repeating every row (same --id) 30 times is accepted and turns an INCONCLUSIVE audit into PASSED."""
    assert CliRunner().invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    rows = [f"{i},{'f' if i % 2 else 'm'},{(i // 2) % 2}" for i in range(120)]
    small, padded = tmp_path / "small.csv", tmp_path / "padded.csv"
    small.write_text("id,sex,pred\n" + "\n".join(rows) + "\n")
    padded.write_text("id,sex,pred\n" + "\n".join(rows * 30) + "\n")
    code, output = _audit(tmp_path, small)
    assert code == 3, output  # 60 per group: the data cannot decide
    code, output = _audit(tmp_path, padded)
    assert code == 2, output  # the same 120 people, each 30 times: should be refused, not PASSED
