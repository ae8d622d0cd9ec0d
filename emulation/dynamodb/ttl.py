"""Time to live inside the engine: expired items are deleted as DynamoDB's TTL process
deletes them, with a REMOVE stream record whose ``userIdentity`` says the service did it.

The ``ttl`` table lists items of TTL-enabled tables by expiry time, so one sweep reads
only the items that have expired. As in DynamoDB, only a Number attribute holding epoch
seconds counts, and items that expired more than five years ago are left alone.
"""

from __future__ import annotations

import time

from emulation.dynamodb.engine import TTL_IDENTITY, Engine
from emulation.dynamodb.storage import ttl_of

BATCH = 500
FIVE_YEARS_S = 5 * 365 * 24 * 3600


def sweep(engine: Engine, now: float | None = None) -> int:
    """Delete up to ``BATCH`` expired items per table; return how many were deleted."""
    now_s = int(now if now is not None else time.time())
    deleted = 0
    store = engine.store
    for t in list(store.tables.values()):
        if t.ttl_attr is None:
            continue
        rows = store.db.execute(
            "SELECT exp, ph, hk, rk FROM ttl WHERE tid = ? AND exp >= ? AND exp < ? "
            "ORDER BY exp LIMIT ?", (t.tid, now_s - FIVE_YEARS_S, now_s, BATCH),
        ).fetchall()  # fmt: skip
        if not rows:
            continue  # the common case: no transaction at all
        with store.tx():
            for exp_row, ph, hk, rk in rows:
                loc = (ph, hk, rk)
                row = engine.load(t, loc)
                if row is None:
                    store.db.execute("DELETE FROM ttl WHERE tid = ? AND exp = ? AND ph = ? AND "
                                     "hk = ? AND rk = ?", (t.tid, exp_row, ph, hk, rk))  # fmt: skip
                    continue
                exp = ttl_of(row[0], t.ttl_attr)
                if exp is None or exp >= now_s:
                    continue  # renewed since: its ttl row moved with the write
                engine.change(t, loc, row, None, identity=TTL_IDENTITY)
                deleted += 1
    return deleted
