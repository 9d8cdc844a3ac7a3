"""Model names that only look alike: ``credit-risk`` and ``credit‐risk`` (U+2010) or ``сredit-risk`` (Cyrillic).

Two names collide when their skeletons are equal, as in Unicode Technical Standard #39 (section 4,
"Confusable Detection"): each character is replaced by the prototype of its class of confusables, after NFKC
and before and after NFD. The confusables come from Unicode's ``confusables.txt`` as the package
``confusable-homoglyphs`` ships it (MIT licence, about 0.9 MB of JSON). That file keeps each line of
``confusables.txt`` in both directions, so the classes are rebuilt as connected groups and each class is
represented by one fixed member: equal skeletons under UTS #39 are equal here. Names are also compared after
case folding (``Credit-Risk``), and invisible characters are left out: format characters such as zero-width
spaces and every default-ignorable code point (variation selectors, the combining grapheme joiner, the Hangul
fillers), as UTS #39 says. A name with nothing visible left is refused.

Rebuilding the classes from that file takes a third of a second, on every ``register add``; so the result (each
character's representative) is kept in ``confusables.json`` beside this module, and a test checks that it is what
the data gives today. Regenerate it with ``.venv/bin/python -m governance.register.names --write``.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

from governance.errors import InputError
from governance.generated import print_or_write

# Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt): printed as nothing, so left out of skeletons.
_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
_IGNORED = frozenset(chr(code) for low, high in _IGNORABLE for code in range(low, high + 1))


PROTOTYPES_FILE = Path(__file__).with_name("confusables.json")
REGENERATE = ".venv/bin/python -m governance.register.names --write"


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable character's class representative (a string: some prototypes are two characters), read
    from the table computed once from the data rather than rebuilt on every command."""
    table: dict[str, str] = json.loads(PROTOTYPES_FILE.read_text(encoding="utf-8"))
    return table


def computed_prototypes() -> dict[str, str]:
    """The table as the installed confusables data gives it, without characters that represent themselves."""
    table = _representatives(_look_alike_classes())
    return {char: table[char] for char in sorted(table) if table[char] != char}


def prototypes_text() -> str:
    """``confusables.json`` as it should read: one character per line, ASCII only."""
    return json.dumps(computed_prototypes(), indent=0, sort_keys=True) + "\n"


def _look_alike_classes() -> list[list[str]]:
    """Groups of characters (or sequences) that look alike, joined from the pairs the data lists both ways."""
    from confusable_homoglyphs import confusables

    parent: dict[str, str] = {}

    def find(item: str) -> str:
        while parent.setdefault(item, item) != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for key, entries in confusables.confusables_data.items():
        for entry in entries:
            mine, theirs = _displayed(key), _displayed(entry["c"])
            if mine and theirs:
                first, second = find(mine), find(theirs)
                if first != second:
                    parent[max(first, second)] = min(first, second)
    classes: dict[str, list[str]] = {}
    for item in list(parent):
        classes.setdefault(find(item), []).append(item)
    return list(classes.values())


def _representatives(classes: list[list[str]]) -> dict[str, str]:
    """One representative per class; a class with a sequence ("m" ~ "rn") is represented by that sequence."""
    single: dict[str, str] = {}
    longer: dict[str, str] = {}
    for members in classes:
        sequences = sorted(member for member in members if len(member) > 1)
        chars = sorted(member for member in members if len(member) == 1)
        for char in chars:
            if sequences:
                longer[char] = sequences[0]
            else:
                single[char] = min(chars)
    # the sequence is spelled in representatives too, so that "m" and "rn" meet
    for char, sequence in longer.items():
        single[char] = "".join(single.get(part, part) for part in sequence)
    return single


def _displayed(text: str) -> str:
    """A character as the data holds it, without the direction marks its source wraps right-to-left text in."""
    return text.replace("\u200e", "").replace("\u200f", "")


def skeleton(text: str) -> str:
    """The UTS #39 skeleton of ``text``: what it looks like, whatever look-alike characters spell it."""
    prototypes = _prototypes()
    decomposed = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text))
    visible = (char for char in decomposed if not _invisible(char))
    return unicodedata.normalize("NFD", "".join(prototypes.get(char, char) for char in visible))


def _invisible(char: str) -> bool:
    return char in _IGNORED or unicodedata.category(char) == "Cf"


def refuse_invisible(name: str) -> None:
    """Refuse a name that prints as blank (only invisible characters and spaces): nobody could read or type it."""
    if not skeleton(name).strip():
        raise InputError(
            f"The model name {name!r} has nothing visible in it; choose a name people can read, e.g. credit-risk."
        )


def lookalike_keys(name: str) -> frozenset[str]:
    """The skeletons under which ``name`` is compared: as written, and case-folded."""
    return frozenset({skeleton(name), skeleton(name.casefold()), skeleton(name).casefold()})


def find_lookalike(name: str, existing: list[str], keys: frozenset[str] | None = None) -> str | None:
    """The first of ``existing`` (other than ``name`` itself) that looks like ``name``, or ``None``; ``keys`` are
    ``name``'s, when already computed."""
    keys = keys if keys is not None else lookalike_keys(name)
    for other in existing:
        if other != name and keys & lookalike_keys(other):
            return other
    return None


def first_difference(name: str, other: str) -> str:
    """Where two look-alike names differ, in words: ``character 1 is CYRILLIC SMALL LETTER ES (U+0441), not
    LATIN SMALL LETTER C (U+0063)``; empty when they differ in length."""
    if len(name) != len(other):
        return ""
    for index, (mine, theirs) in enumerate(zip(name, other, strict=True), start=1):
        if mine != theirs:
            return f"character {index} is {_describe(mine)}, not {_describe(theirs)}"
    return ""


def _describe(char: str) -> str:
    return f"{unicodedata.name(char, 'an unnamed character')} (U+{ord(char):04X})"


def main(argv: list[str] | None = None) -> None:
    """Print the table, or write it to ``confusables.json`` with ``--write``."""
    print_or_write(PROTOTYPES_FILE, prototypes_text(), argv)


if __name__ == "__main__":
    main()
