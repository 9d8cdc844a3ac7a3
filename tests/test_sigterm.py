"""SIGTERM in the command line only: a second SIGTERM does not break the clean-up the first one started, and
``main()`` called in a caller's process (a notebook, a test runner, a web app) gives the caller its own SIGTERM
handler back when it returns."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from types import FrameType

import pytest

ROOT = Path(__file__).resolve().parents[1]

# A command that is stopped by SIGTERM and gets a second one during its clean-up (a user or a supervisor sending
# `kill` twice): the clean-up must finish (a temporary file removed, a transaction rolled back).
PROBE = """
import os, signal, time
from pathlib import Path

import click


@click.command()
@click.argument("marker")
def probe(marker):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100000):  # the interpreter checks for signals meanwhile
            pass
        Path(marker).write_text("cleaned up", encoding="utf-8")
"""

RUN = """
import sys
from governance.cli import main
main.COMMANDS["probe"] = "sigterm_probe:probe"
main.main(["probe", sys.argv[1]])
"""


def _run_probe(tmp_path: Path, probe: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the command line with ``probe`` as its command; what it did, and the marker its clean-up writes."""
    (tmp_path / "sigterm_probe.py").write_text(probe, encoding="utf-8")
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(marker)], capture_output=True, text=True, env=env, timeout=60
    )
    return done, marker


def test_a_second_sigterm_during_the_clean_up_does_not_cut_it_short(tmp_path: Path) -> None:
    done, marker = _run_probe(tmp_path, textwrap.dedent(PROBE))
    assert done.returncode == 143, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Aborted!" not in done.stderr, done.stderr
    assert [line for line in done.stderr.splitlines() if line.strip()][-1].startswith("Stopped"), done.stderr
    assert marker.read_text(encoding="utf-8") == "cleaned up"


def test_sigterm_while_ctrl_c_is_being_handled_does_not_cut_the_clean_up_short(tmp_path: Path) -> None:
    """Ctrl-C, then a supervisor's SIGTERM while the command cleans up: the clean-up finishes, and the command
    ends as interrupted (130), the first of the two."""
    probe = textwrap.dedent(PROBE).replace("signal.SIGTERM)", "signal.SIGINT)", 1)  # the first: Ctrl-C
    done, marker = _run_probe(tmp_path, probe)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr and "Aborted!" not in done.stderr, done.stderr
    assert marker.read_text(encoding="utf-8") == "cleaned up"


READING = """
import os, signal, sys
from governance.cli import main

read = main.LazyGroup.parse_args


def parse_args(self, ctx, args):
    os.kill(os.getpid(), signal.SIG{name})  # while the command line is read, before any command runs
    for _ in range(100000):
        pass
    return read(self, ctx, args)


main.LazyGroup.parse_args = parse_args
main.main(["status"])
"""


@pytest.mark.parametrize(("name", "code", "words"), [("TERM", 143, "Stopped"), ("INT", 130, "Interrupted")])
def test_a_stop_while_the_command_line_is_read_says_one_sentence(name: str, code: int, words: str) -> None:
    """Click's own "Aborted!" and exit 1 (a failed blocking rule, by the exit-code contract) otherwise."""
    done = subprocess.run(
        [sys.executable, "-c", READING.replace("{name}", name)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stderr.startswith(words) and len(done.stderr.splitlines()) == 1, done.stderr


def test_main_gives_the_callers_sigterm_handler_back() -> None:
    from governance.cli.main import main

    def mine(_signum: int, _frame: FrameType | None) -> None:
        """The caller's own handler."""

    before = signal.signal(signal.SIGTERM, mine)
    try:
        with pytest.raises(SystemExit):
            main(["--help"])
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)


def test_a_process_that_ignores_sigterm_keeps_ignoring_it(tmp_path: Path) -> None:
    """A supervisor that set SIGTERM to be ignored (so that only its own stop counts) is obeyed."""
    probe = textwrap.dedent(PROBE).replace("time.sleep(30)", "pass")
    (tmp_path / "sigterm_probe.py").write_text(probe, encoding="utf-8")
    run = "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n" + RUN
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    process = subprocess.Popen(
        [sys.executable, "-c", run, str(tmp_path / "marker")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 0 and "Stopped" not in err, (process.returncode, err)
    assert (tmp_path / "marker").read_text(encoding="utf-8") == "cleaned up"


def test_an_earlier_commands_sigterm_does_not_make_a_later_ctrl_c_a_sigterm() -> None:
    """main() called again in one process (a notebook, a test runner): a SIGTERM during one command made every later
    command's Ctrl-C that DuckDB turned into "Query interrupted" read as SIGTERM (exit 143, "Stopped")."""
    from governance.cli.main import main
    from governance.stops import Terminated, note_terminated, stop_behind

    note_terminated()  # what the handler records when SIGTERM comes during a command
    assert isinstance(stop_behind(RuntimeError("Query interrupted")), Terminated)
    with pytest.raises(SystemExit):
        main(["--help"])  # the next command
    stop = stop_behind(RuntimeError("Query interrupted"))
    assert isinstance(stop, KeyboardInterrupt) and not isinstance(stop, Terminated)
