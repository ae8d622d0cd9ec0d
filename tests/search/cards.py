"""A small hand-written deck for the search tests, on the shared card index body.

The index body and the document shape come from ``bench/search_cards.py`` (one definition
for tests and benchmark); the ten cards here are chosen for what the tests assert.
"""

from __future__ import annotations

from typing import Any

from bench.search_cards import CARD_INDEX_BODY, card_document

__all__ = ["CARDS", "CARD_INDEX_BODY"]


def _card(
    i: int,
    name: str,
    set_: str,
    rarity: str,
    type_: str,
    price: float,
    stock: int,
    released: str,
    foil: bool,
    description: str,
) -> dict[str, Any]:
    return card_document(
        f"c{i}",
        i,
        name=name,
        description=description,
        set_=set_,
        rarity=rarity,
        type_=type_,
        price=price,
        stock=stock,
        released_at=released,
        foil=foil,
    )


CARDS: list[dict[str, Any]] = [
    _card(
        1,
        "Black Lotus",
        "lea",
        "rare",
        "artifact",
        9999.99,
        1,
        "1993-08-05",
        False,
        "Sacrifice Black Lotus: add three mana of any one color.",
    ),
    _card(
        2,
        "Lightning Bolt",
        "lea",
        "common",
        "instant",
        1.50,
        40,
        "1993-08-05",
        False,
        "Lightning Bolt deals 3 damage to any target.",
    ),
    _card(
        3,
        "Lotus Petal",
        "tmp",
        "common",
        "artifact",
        0.25,
        12,
        "1997-10-14",
        True,
        "Sacrifice Lotus Petal: add one mana of any color.",
    ),
    _card(
        4,
        "Lightning Helix",
        "rav",
        "uncommon",
        "instant",
        0.80,
        25,
        "2005-10-07",
        False,
        "Lightning Helix deals 3 damage to any target and you gain 3 life.",
    ),
    _card(
        5,
        "Counterspell",
        "lea",
        "uncommon",
        "instant",
        2.10,
        30,
        "1993-08-05",
        False,
        "Counter target spell.",
    ),
    _card(
        6,
        "Serra Angel",
        "lea",
        "uncommon",
        "creature",
        3.00,
        8,
        "1993-08-05",
        True,
        "Flying, vigilance. A white angel of great power.",
    ),
    _card(
        7,
        "Shivan Dragon",
        "lea",
        "rare",
        "creature",
        45.00,
        2,
        "1993-08-05",
        False,
        "Flying. A red dragon that breathes fire.",
    ),
    _card(
        8,
        "Dark Ritual",
        "tmp",
        "common",
        "instant",
        0.50,
        60,
        "1997-10-14",
        False,
        "Add three black mana.",
    ),
    _card(
        9,
        "Bolt of Lightning Storm",
        "rav",
        "rare",
        "sorcery",
        5.25,
        0,
        "2005-10-07",
        True,
        "A storm of lightning bolts strikes every creature.",
    ),
    _card(
        10,
        "Llanowar Elves",
        "m10",
        "common",
        "creature",
        0.30,
        50,
        "2009-07-17",
        False,
        "Tap: add one green mana.",
    ),
]
