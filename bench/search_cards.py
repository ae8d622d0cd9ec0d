"""The card index body and card documents that bench_search.py and tests/search share.

One definition of the card index (mapping + autocomplete analysis), of a card document's
fields (:func:`card_document`), and a deterministic generator of any number of them. The
search tests import this module (``bench.search_cards``), so it must stay free of side
effects: constants and pure functions only.
"""

from __future__ import annotations

import random
from typing import Any

_WORD_TEXT = (
    "black lotus lightning bolt serra angel shivan dragon dark ritual counterspell llanowar "
    "elves giant growth wrath god swords plowshares sol ring mox pearl sapphire jet ruby "
    "emerald time walk ancestral recall birds paradise force will brainstorm ponder "
    "thoughtseize tarmogoyf snapcaster mage jace mind sculptor liliana veil primeval titan "
    "goblin guide monastery swiftspear path exile fatal push"
)
WORDS = tuple(_WORD_TEXT.split(" "))
SETS = (
    "lea",
    "leb",
    "2ed",
    "arn",
    "atq",
    "leg",
    "drk",
    "fem",
    "ice",
    "tmp",
    "rav",
    "m10",
    "zen",
    "isd",
    "rtr",
    "ths",
    "ktk",
    "bfz",
    "dom",
    "war",
)
RARITIES = ("common", "uncommon", "rare", "mythic")
TYPES = ("creature", "instant", "sorcery", "artifact", "enchantment", "land", "planeswalker")

CARD_INDEX_BODY: dict[str, Any] = {
    "settings": {
        "number_of_shards": 1,
        "analysis": {
            "tokenizer": {
                "edge_ngram_tokenizer": {
                    "type": "edge_ngram",
                    "min_gram": 2,
                    "max_gram": 20,
                    "token_chars": ["letter", "digit"],
                }
            },
            "analyzer": {
                "autocomplete": {
                    "type": "custom",
                    "tokenizer": "edge_ngram_tokenizer",
                    "filter": ["lowercase"],
                }
            },
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "id": {"type": "keyword"},
            "name": {
                "type": "text",
                "analyzer": "standard",
                "fields": {
                    "keyword": {"type": "keyword"},
                    "autocomplete": {
                        "type": "text",
                        "analyzer": "autocomplete",
                        "search_analyzer": "standard",
                    },
                },
            },
            "description": {"type": "text"},
            "set": {"type": "keyword"},
            "rarity": {"type": "keyword"},
            "type": {"type": "keyword"},
            "price": {"type": "scaled_float", "scaling_factor": 100},
            "stock": {"type": "integer"},
            "number": {"type": "integer"},
            "released_at": {"type": "date"},
            "foil": {"type": "boolean"},
        },
    },
}


def card_document(
    doc_id: str,
    number: int,
    *,
    name: str,
    description: str,
    set_: str,
    rarity: str,
    type_: str,
    price: float,
    stock: int,
    released_at: str,
    foil: bool,
) -> dict[str, Any]:
    """One card as indexed: every field of ``CARD_INDEX_BODY``'s mapping, nothing else."""
    return {
        "id": doc_id,
        "name": name,
        "description": description,
        "set": set_,
        "rarity": rarity,
        "type": type_,
        "price": price,
        "stock": stock,
        "number": number,
        "released_at": released_at,
        "foil": foil,
    }


def generate_cards(n: int, seed: int = 42) -> list[dict[str, Any]]:
    """``n`` cards ``card-0`` ... drawn from a seeded generator: the same seed, the same deck."""
    rng = random.Random(seed)
    cards = []
    for i in range(n):
        # Keyword arguments are evaluated in the order written: keep it, it is the draw order.
        cards.append(
            card_document(
                f"card-{i}",
                i,
                name=" ".join(w.capitalize() for w in rng.sample(WORDS, rng.randint(2, 3))),
                description=" ".join(rng.choices(WORDS, k=rng.randint(8, 16))),
                set_=rng.choice(SETS),
                rarity=rng.choice(RARITIES),
                type_=rng.choice(TYPES),
                price=round(rng.uniform(0.1, 500.0), 2),
                stock=rng.randint(0, 100),
                released_at=f"{rng.randint(1993, 2024)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                foil=rng.random() < 0.2,
            )
        )
    return cards


def query_terms(n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(misspelt word, set) pairs for the filtered fuzzy query."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        word = rng.choice([w for w in WORDS if len(w) >= 5])
        pos = rng.randrange(1, len(word) - 1)
        typo = word[:pos] + word[pos + 1] + word[pos] + word[pos + 2 :]  # swap two letters
        out.append((typo, rng.choice(SETS)))
    return out
