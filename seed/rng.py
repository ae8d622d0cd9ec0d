"""Deterministic randomness: one independent stream per (seed, system, store, table).

Every table (or item type) draws from its own ``random.Random`` whose seed is a hash of
the run's ``--seed`` and the table's full name, so adding a table or changing the count
of one does not shift the values of any other. Ids are UUIDs built from the stream
(the same seed gives the same ids), and times are offsets from a fixed epoch, so two
runs with the same ``--seed`` and ``--scale`` produce byte-identical data.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, datetime, timedelta

# The fixed "now" of seeded data (``--now`` replaces it with the wall clock). It sits
# inside the monthly partitions the migrations create (2024-01 .. 2027-12).
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
# How far back seeded history reaches from the epoch.
HISTORY = timedelta(days=540)


def stream(seed: int, *names: str) -> random.Random:
    """An independent, reproducible random stream for ``names`` under ``seed``."""
    digest = hashlib.sha256(":".join([str(seed), *names]).encode()).digest()
    return random.Random(int.from_bytes(digest[:16], "big"))


def uuid_from(rng: random.Random) -> uuid.UUID:
    """A version-4-shaped UUID drawn from ``rng`` (uuid.uuid4 reads the OS, not a seed)."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def stable_uuid(seed: int, *names: object) -> uuid.UUID:
    """A UUID that depends only on ``seed`` and ``names``: the same entity, the same id,
    whichever table asks for it first."""
    digest = hashlib.sha256(":".join([str(seed), *map(str, names)]).encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


class Clock:
    """Times of the seeded world: ``now`` is the epoch (or the wall clock with --now)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = (now or EPOCH).replace(microsecond=0)
        self.start = self.now - HISTORY

    def between(self, rng: random.Random, lo: datetime, hi: datetime) -> datetime:
        span = max(int((hi - lo).total_seconds()), 1)
        return lo + timedelta(seconds=rng.randrange(span))

    def past(self, rng: random.Random) -> datetime:
        """A moment in the seeded history (uniform)."""
        return self.between(rng, self.start, self.now)

    def after(self, rng: random.Random, t: datetime, max_days: float = 30) -> datetime:
        """A moment after ``t`` (not past ``now`` when ``t`` is before it)."""
        hi = (
            min(t + timedelta(days=max_days), self.now)
            if t < self.now
            else t + timedelta(days=max_days)
        )
        return self.between(rng, t, hi) if hi > t else t

    @staticmethod
    def iso(t: datetime) -> str:
        """The ISO form the seeds use in DynamoDB: ``2024-01-01T12:00:00Z``."""
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
