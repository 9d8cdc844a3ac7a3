"""The look-alike table is read, not rebuilt: rebuilding it from the confusables data took a third of a second
of every ``register add`` (issue 13, point 3). The file must be what the data gives today."""

from __future__ import annotations

from governance.register import names


def test_the_shipped_table_is_what_the_confusables_data_gives() -> None:
    assert names.PROTOTYPES_FILE.read_text(encoding="utf-8") == names.prototypes_text(), (
        f"governance/register/confusables.json is stale; run {names.REGENERATE}"
    )


def test_every_character_keeps_its_representative() -> None:
    """Characters left out of the file are those that represent themselves, so every lookup is unchanged."""
    full = names._representatives(names._look_alike_classes())
    table = names._prototypes()
    assert all(table.get(char, char) == prototype for char, prototype in full.items())
    assert names.skeleton("\u0441redit-risk") == names.skeleton("credit-risk")  # Cyrillic es
    assert names.skeleton("credit\u2010risk") == names.skeleton("credit-risk")  # hyphen U+2010
