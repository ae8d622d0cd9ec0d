"""Generic values by type and by what a field's name says it holds.

A field called ``email`` gets an address, ``*_url`` a URL, ``slug`` a slug, ``currency``
an ISO code — patterns of meaning, not the names of any declared table. Everything is
drawn from the caller's seeded stream and the precomputed vocabulary (no per-value
faker calls: a vocabulary list and ``random.Random`` are an order of magnitude faster).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from typing import Any

from seed import vocab
from seed.rng import Clock, uuid_from

_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    return _SLUG_RE.sub("-", text.lower()).strip("-")


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(vocab.WORDS, k=n))


def sentence(rng: random.Random, lo: int = 6, hi: int = 16) -> str:
    text = words(rng, rng.randint(lo, hi))
    return text[0].upper() + text[1:] + "."


def person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(vocab.FIRST_NAMES), rng.choice(vocab.LAST_NAMES)


def email(rng: random.Random, first: str, last: str, n: int) -> str:
    return f"{slugify(first)}.{slugify(last)}{n}@{rng.choice(vocab.EMAIL_DOMAINS)}"


def phone(rng: random.Random) -> str:
    return f"+1-{rng.randint(201, 989)}-555-{rng.randint(0, 9999):04d}"


def place(rng: random.Random) -> vocab.Place:
    return rng.choice(vocab.PLACES)


def street(rng: random.Random) -> str:
    return f"{rng.randint(1, 9999)} {rng.choice(vocab.STREET_NAMES)} {rng.choice(vocab.STREET_SUFFIXES)}"


def money(rng: random.Random, lo: float = 1.0, hi: float = 500.0) -> Decimal:
    cents = rng.randint(int(lo * 100), int(hi * 100))
    return Decimal(cents).scaleb(-2)


def hexstr(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def string_for(name: str, rng: random.Random, clock: Clock, n: int, length: int | None) -> str:
    """A string whose content suits a field named ``name`` (``n`` = row number)."""
    low = name.lower()
    if "email" in low:
        value = email(rng, *person(rng), n)
    elif low.endswith(("url", "_uri")) or low == "url":
        value = f"https://example.com/{slugify(words(rng, 2))}/{n}"
    elif low.endswith("slug") or low == "slug":
        value = f"{slugify(words(rng, 3))}-{n}"
    elif "phone" in low:
        value = phone(rng)
    elif low.endswith(("currency",)):
        value = "USD"
    elif low.endswith(("country_code", "country")):
        value = place(rng).country
    elif low in ("city", "home_city"):
        value = place(rng).city
    elif low in ("region", "state"):
        value = rng.choice(vocab.US_STATES)
    elif "postal" in low or low.endswith("zip"):
        value = f"{rng.randint(10000, 99999)}"
    elif low.endswith(("line1", "address")):
        value = street(rng)
    elif "timezone" in low:
        value = place(rng).timezone
    elif "hash" in low or "token" in low or "fingerprint" in low or "signature" in low:
        value = hexstr(rng, 64)
    elif low in ("first_name",):
        value = person(rng)[0]
    elif low in ("last_name",):
        value = person(rng)[1]
    elif low.endswith("name") and ("recipient" in low or "display" in low or "user" in low):
        value = " ".join(person(rng))
    elif low == "username":
        first, last = person(rng)
        value = f"{slugify(first)}_{slugify(last)}{n}".replace("-", "_")
    elif low.endswith(("code", "number", "sku", "key", "_ref")) or low.endswith("_id"):
        value = f"{slugify(words(rng, 1)).upper()}-{n:06d}"
    elif low in ("locale",):
        value = "en-US"
    elif low in ("language",):
        value = "en"
    elif low in ("description", "body", "notes", "note", "reason", "message", "instructions",
                 "customer_notes", "body_text", "body_html", "failure_message",
                 "error_message", "last_error", "subject", "title"):  # fmt: skip
        value = sentence(rng)
    elif low.endswith("name") or low in ("label", "brand", "company", "provider", "location"):
        value = words(rng, 2).title()
    elif low.endswith(("_by", "author_id")):
        value = "system"
    elif "user_agent" in low:
        value = rng.choice(vocab.USER_AGENTS)
    else:
        value = words(rng, 2)
    if length is not None and len(value) > length:
        value = value[-length:] if low.endswith(("code", "number", "sku")) else value[:length]
    return value


def json_for(name: str, rng: random.Random) -> Any:
    low = name.lower()
    if low in ("permissions", "variables"):
        return [slugify(w) for w in rng.sample(vocab.WORDS, 3)]
    if low in ("options",):
        return {"size": rng.choice(["S", "M", "L", "XL"]), "color": rng.choice(vocab.COLORS)}
    return {"source": "seed", "ref": hexstr(rng, 8)}


def date_for(name: str, rng: random.Random, clock: Clock) -> dt.date:
    if "birth" in name:
        return dt.date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28))
    return clock.past(rng).date()


def new_uuid(rng: random.Random) -> Any:
    return uuid_from(rng)
