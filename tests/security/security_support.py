"""Hostile files for the security tests: a pickle and a skops file that run a command, and a zip bomb.

Each is real: loaded without our checks, the first two create ``marker``; the bomb inflates to gigabytes.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import shlex
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner, Result
from sklearn.linear_model import LogisticRegression

from governance.cli.main import cli
from governance.intake.model_files import save_model


class RunsCommand:
    """Unpickling this object runs ``touch marker`` (what an attacker's pickle does)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def evil_pickle(path: Path, marker: Path) -> Path:
    path.write_bytes(pickle.dumps(RunsCommand(marker)))
    return path


def evil_skops(path: Path, marker: Path) -> Path:
    """A skops file whose only object is ``posix.system("touch marker")``, built as skops' reduce node."""
    import skops.io as sio

    schema = json.loads(
        zipfile.ZipFile(io.BytesIO(sio.dumps((f"touch {shlex.quote(str(marker))}",)))).read("schema.json")
    )
    header = {key: schema.pop(key) for key in ("protocol", "_skops_version")}
    evil = {
        "__class__": "system",
        "__module__": "posix",
        "__loader__": "ConstructorFromReduceNode",
        "content": schema,
        **header,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps(evil))
    path.write_bytes(buffer.getvalue())
    return path


def zip_bomb(path: Path, inflated_bytes: int = 2 << 30) -> Path:
    """A valid skops-looking zip whose member inflates to ``inflated_bytes`` of zeros (about 2 MB on disk).

    The deflate stream is one fully flushed block of 1 MiB of zeros repeated, so building it costs little;
    the CRC is the real one, so a reader that trusts the archive really inflates it all.
    """
    chunk = 1 << 20
    assert inflated_bytes % chunk == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    repeated = compressor.compress(bytes(chunk)) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert repeated == block
    count = inflated_bytes // chunk
    data = block * count + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    zeros = bytes(chunk)
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    assert zlib.decompressobj(-15).decompress(data[: len(block) * 2 + 2], chunk * 2) == bytes(chunk * 2)
    name = b"schema.json"
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), inflated_bytes, len(name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0x21,
        crc,
        len(data),
        inflated_bytes,
        len(name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    end_offset = len(local) + len(name) + len(data)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(name), end_offset, 0)
    path.write_bytes(local + name + data + central + name + end)
    return path


def credit_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 10, size=n)
    label = (rng.random(n) < 1 / (1 + np.exp(-0.15 * (income - 50)))).astype(int)
    return pd.DataFrame(
        {"id": np.arange(n), "income": income, "group": rng.choice(["A", "B"], size=n), "label": label}
    )


def fitted(frame: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(frame[["income"]], frame["label"])


def make_workspace(root: Path) -> Path:
    """A workspace with holdout.csv, a skops model and the same model pickled."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    frame = credit_frame()
    frame.to_csv(root / "holdout.csv", index=False)
    model = fitted(frame)
    save_model(model, root / "model.skops")
    (root / "model.pkl").write_bytes(pickle.dumps(model))
    return root


def run(workspace: Path, *args: str, actor: str = "ds@example.com") -> Result:
    """``governance ARGS`` in ``workspace`` as ``actor``."""
    env: dict[str, str | None] = {
        "GOVERNANCE_ACTOR": actor,
        "GOVERNANCE_WORKSPACE": str(workspace),
        "GOVERNANCE_REGISTER_URL": None,
    }
    return CliRunner().invoke(cli, list(args), env=env)


def one_error_line(result: Result) -> str:
    """The single ``Error: ...`` line a refused command prints; fails on a traceback or several lines."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def add_model_version(workspace: Path, model: str, *extra: str, actor: str = "ds@example.com") -> Result:
    """``governance register add m --owner o@x --purpose p --version 1 --model MODEL [EXTRA]`` in ``workspace``."""
    command = ["register", "add", "m", "--owner", "o@x", "--purpose", "p", "--version", "1", "--model", model]
    return run(workspace, *command, *extra, actor=actor)
