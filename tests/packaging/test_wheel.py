"""The wheel a user installs carries everything the toolkit reads at run time, and says its one version."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import governance

REPO = Path(__file__).resolve().parents[2]


def test_the_wheel_bundles_the_policies_and_the_type_marker(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("governance-*.whl")
    assert wheel.name.startswith(f"governance-{governance.__version__}-"), "the version comes from one place"
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        path.relative_to(REPO / "policies").as_posix()
        for path in (REPO / "policies").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    bundled = {
        name.removeprefix("governance/_bundled/policies/")
        for name in names
        if name.startswith("governance/_bundled/policies/")
    }
    assert shipped and shipped <= bundled, f"missing from the wheel: {sorted(shipped - bundled)[:5]}"
    assert "governance/py.typed" in names
    assert any(name.startswith("governance/scaffold/files/docs/assets/") for name in names)
    assert any(name.startswith("governance/register/migrations/versions/") for name in names)
