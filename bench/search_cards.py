"""Deterministic card documents and the tcgstore card index body for bench_search.py."""

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
                "edge": {
                    "type": "edge_ngram",
                    "min_gram": 2,
                    "max_gram": 20,
                    "token_chars": ["letter", "digit"],
                }
            },
            "analyzer": {
                "autocomplete": {"type": "custom", "tokenizer": "edge", "filter": ["lowercase"]}
            },
        },
    },
    "mappings": {
        "dynamic": "strict",
        "properties": {
            "id": {"type": "keyword"},
            "name": {
                "type": "text",
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


def generate_cards(n: int, seed: int = 42) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    cards = []
    for i in range(n):
        name = " ".join(w.capitalize() for w in rng.sample(WORDS, rng.randint(2, 3)))
        cards.append(
            {
                "id": f"card-{i}",
                "name": name,
                "description": " ".join(rng.choices(WORDS, k=rng.randint(8, 16))),
                "set": rng.choice(SETS),
                "rarity": rng.choice(RARITIES),
                "type": rng.choice(TYPES),
                "price": round(rng.uniform(0.1, 500.0), 2),
                "stock": rng.randint(0, 100),
                "number": i,
                "released_at": f"{rng.randint(1993, 2024)}-{rng.randint(1, 12):02d}-"
                f"{rng.randint(1, 28):02d}",
                "foil": rng.random() < 0.2,
            }
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
