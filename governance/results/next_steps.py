"""The next step a message suggests, worded for whoever reads it (issue 12, point 5).

The library writes a step in its own words (a method call) and records it as a :class:`NextStep`; the command
line, the site and the reports (all read by people who run the command line) word the same step as the command
that takes it, through the one function :func:`worded`, so that they never differ. The one table of commands is
``governance.results.commands``; nothing else in the library names a command-line flag.
"""

from __future__ import annotations

from collections.abc import Iterable

from governance.results.commands import COMMAND_OF_ACTION, command_of
from governance.results.common import Frozen


class NextStep(Frozen):
    """A step a message suggests: what to do (``action``), about what (``subject``), and the library's words for it
    as they appear in the message (``said``)."""

    action: str
    said: str
    subject: dict[str, str] = {}


def worded(message: str, steps: Iterable[NextStep]) -> str:
    """The message with each step in the library's words replaced by its command: the one wording shared by the
    command line, the site and the reports."""
    for step in steps:
        if step.action in COMMAND_OF_ACTION:
            message = message.replace(step.said, command_of(step.action, step.subject))
    return message
