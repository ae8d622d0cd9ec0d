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
from collections.abc import Callable
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
    name, suffix = rng.choice(vocab.STREET_NAMES), rng.choice(vocab.STREET_SUFFIXES)
    return f"{rng.randint(1, 9999)} {name} {suffix}"


def money(rng: random.Random, lo: float = 1.0, hi: float = 500.0) -> Decimal:
    cents = rng.randint(int(lo * 100), int(hi * 100))
    return Decimal(cents).scaleb(-2)


def hexstr(rng: random.Random, n: int) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


StrGen = Callable[[random.Random, int], str]


def string_gen(name: str, length: int | None) -> StrGen:
    """A generator of strings whose content suits a field named ``name`` (decided once
    per column: the name tests are not repeated per value)."""
    low = name.lower()
    fn: StrGen
    if "email" in low:
        fn = lambda r, n: email(r, *person(r), n)  # noqa: E731
    elif low.endswith(("url", "_uri")):
        fn = lambda r, n: f"https://example.com/{slugify(words(r, 2))}/{n}"  # noqa: E731
    elif low.endswith("slug"):
        fn = lambda r, n: f"{slugify(words(r, 3))}-{n}"  # noqa: E731
    elif "phone" in low:
        fn = lambda r, n: phone(r)  # noqa: E731
    elif low.endswith("currency"):
        fn = lambda r, n: "USD"  # noqa: E731
    elif low.endswith(("country_code", "country")):
        fn = lambda r, n: place(r).country  # noqa: E731
    elif low in ("city", "home_city"):
        fn = lambda r, n: place(r).city  # noqa: E731
    elif low in ("region", "state"):
        fn = lambda r, n: r.choice(vocab.US_STATES)  # noqa: E731
    elif "postal" in low or low.endswith("zip"):
        fn = lambda r, n: f"{r.randint(10000, 99999)}"  # noqa: E731
    elif low.endswith("line2"):
        fn = lambda r, n: f"{r.choice(_UNITS)} {r.randint(1, 40)}"  # noqa: E731
    elif low.endswith(("line1", "address")):
        fn = lambda r, n: street(r)  # noqa: E731
    elif "timezone" in low:
        fn = lambda r, n: place(r).timezone  # noqa: E731
    elif any(k in low for k in ("hash", "token", "fingerprint", "signature")):
        fn = lambda r, n: hexstr(r, 64)  # noqa: E731
    elif low == "first_name":
        fn = lambda r, n: r.choice(vocab.FIRST_NAMES)  # noqa: E731
    elif low == "last_name":
        fn = lambda r, n: r.choice(vocab.LAST_NAMES)  # noqa: E731
    elif low.endswith("name") and any(k in low for k in ("recipient", "display", "user")):
        fn = lambda r, n: " ".join(person(r))  # noqa: E731
    elif low == "username":
        fn = lambda r, n: f"{slugify(r.choice(vocab.FIRST_NAMES))}_{n}"  # noqa: E731
    elif low.endswith(("code", "number", "sku", "key", "_ref", "_id")):
        fn = lambda r, n: f"{r.choice(vocab.WORDS).upper()}-{n:06d}"  # noqa: E731
    elif low == "locale":
        fn = lambda r, n: "en-US"  # noqa: E731
    elif low == "language":
        fn = lambda r, n: "en"  # noqa: E731
    elif low in _PROSE:
        fn = lambda r, n: sentence(r)  # noqa: E731
    elif low.endswith("name") or low in ("label", "brand", "company", "provider", "location"):
        fn = lambda r, n: words(r, 2).title()  # noqa: E731
    elif low.endswith(("_by", "author_id")):
        fn = lambda r, n: "system"  # noqa: E731
    elif "user_agent" in low:
        fn = lambda r, n: r.choice(vocab.USER_AGENTS)  # noqa: E731
    else:
        fn = lambda r, n: words(r, 2)  # noqa: E731
    if length is None:
        return fn
    keep_tail = low.endswith(("code", "number", "sku"))
    return lambda r, n: _fit(fn(r, n), length, keep_tail)


def _fit(value: str, length: int, keep_tail: bool) -> str:
    if len(value) <= length:
        return value
    return value[-length:] if keep_tail else value[:length]


_UNITS = ["Suite", "Apt", "Unit", "Floor"]
_PROSE = {
    "description",
    "body",
    "notes",
    "note",
    "reason",
    "message",
    "instructions",
    "customer_notes",
    "body_text",
    "body_html",
    "failure_message",
    "error_message",
    "last_error",
    "subject",
    "title",
}


def string_for(name: str, rng: random.Random, clock: Clock, n: int, length: int | None) -> str:
    """One string for a field named ``name`` (see ``string_gen``)."""
    return string_gen(name, length)(rng, n)


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
