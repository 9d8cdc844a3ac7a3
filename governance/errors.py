"""Domain errors, each with the exit code the command line maps it to.

Every message is one sentence that says what is wrong and how to fix it. The command line prints
``Error: <message>`` and exits with ``exit_code``; the library raises and never prints.

Exit codes (the contract in DESIGN.md):
    0 passed, 1 failed a blocking rule or a check, 2 usage or input error, 3 inconclusive, 4 refused input,
    130 interrupted (Ctrl-C), 143 stopped by SIGTERM (the command line's own, no error class).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar


class GovernanceError(Exception):
    """Base class: a problem the user can fix, reported in one sentence.

    A sentence that names what the caller gave writes each name as ``{field}`` and lists it in ``fields`` (with
    the words the library uses for it, when they are not the field's own name): a Python caller reads
    ``threshold``, while the command line says ``--threshold`` (see :meth:`naming_fields`). A sentence that
    says what to do next writes it as ``{action}`` and gives ``actions`` (the library's words: a method call)
    and ``subject`` (what the action is about: ``model``, ``version``, ``label``), so that the command line can
    name its own command for it instead.
    """

    exit_code: ClassVar[int] = 2  # a subclass says its own only where it differs

    def __init__(
        self,
        message: str = "",
        *,
        fields: Mapping[str, str] | Iterable[str] = (),
        actions: Mapping[str, str] | None = None,
        subject: Mapping[str, str] | None = None,
    ) -> None:
        self.template = message
        self.fields = dict(fields) if isinstance(fields, Mapping) else {field: field for field in fields}
        self.actions = dict(actions or {})
        self.subject = dict(subject or {})
        super().__init__(self.naming_fields({}))

    def naming_fields(self, names: Mapping[str, str]) -> str:
        """The sentence with each field or action called as ``names`` says (the options and commands a user
        types), else as the library calls it."""
        text = self.template
        for field, words in {**self.fields, **self.actions}.items():
            text = text.replace("{" + field + "}", names.get(field, words))
        return text


class InputError(GovernanceError):
    """The data, a column, an option or a file given is wrong or unreadable."""


class FieldError(InputError):
    """An input error about one field a caller gave, named as the library calls it (``owner``, ``within_days``).

    ``template`` holds ``{field}`` where the name goes, so that the command line can say ``--owner`` instead:
    a Python caller never typed a flag, and a command-line user never typed a keyword argument.
    """

    def __init__(self, field: str, template: str) -> None:
        self.field = field
        super().__init__(template.replace("{field}", "{" + field + "}"), fields=[field])

    def naming(self, name: str) -> str:
        """The message with the field called ``name`` (for example the option the user typed)."""
        return self.naming_fields({self.field: name})


class PolicyError(InputError):
    """The policy file is invalid: an unknown key, a bad bound, a typo."""


class RefusedInputError(GovernanceError):
    """Input that would be unsafe to use, such as a pickle whose hash nobody vouched for."""

    exit_code: ClassVar[int] = 4


class RegisterError(GovernanceError):
    """The model register cannot be opened or used as asked."""


class CorruptRegisterError(RegisterError):
    """The register file is damaged or belongs to another program; it is left untouched."""

    exit_code: ClassVar[int] = 4


class GuardError(RegisterError):
    """A lifecycle rule refused the change (for example approving without a passing audit)."""

    exit_code: ClassVar[int] = 1


class NotFoundError(RegisterError):
    """A model, version or audit named by the user is not in the register."""


class ExplainError(GovernanceError):
    """The model could not be explained; the rest of an audit still completes."""


class SiteError(GovernanceError):
    """The site could not be built."""


class SiteRenderError(SiteError):
    """A page, template or checklist of the site could not be rendered: the build is incomplete."""

    exit_code: ClassVar[int] = 1
