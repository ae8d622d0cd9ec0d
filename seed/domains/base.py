"""The hooks a domain generator may fill; every hook may answer None (generic data).

A domain adds realism and cross-store meaning for a system it knows (card names worth
searching, balances that add up). It looks tables, columns and item types up through
the topology — ``plan.spec(store, table)``, ``plan.system.stores[...]`` — and a hook
whose table or field has gone from the topology falls back to generic data rather than
writing a column that no longer exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seed.plan import Plan
    from seed.verify import Reader

Row = dict[str, Any]


class Domain:
    """No realism: everything generic. Subclasses override what they know."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.scale = plan.scale

    def fit(self, store: str, table: str, rows: list[Row]) -> list[Row] | None:
        """``rows`` keeping only columns the table has; None when the table is gone.

        Domain code names the tables and columns it knows; the topology decides what is
        written, so a renamed column falls back to generic values instead of failing.
        """
        spec = self.plan.spec(store, table)
        if spec is None:
            return None
        cols = set(spec.columns)
        return [{k: v for k, v in r.items() if k in cols} for r in rows]

    def count(self, store: str, table: str) -> int | None:
        """How many rows a table gets (None: the generic rule)."""
        return None

    def partial_rows(self, store: str, table: str) -> list[Row] | None:
        """Partial rows (realistic columns); the generic generator completes them."""
        return None

    def items(self, store: str) -> list[Row] | None:
        """Complete items of a DynamoDB store (python values, keys included)."""
        return None

    def docs(self, store: str) -> list[Row] | None:
        """Documents of a search index that no link feeds (``_id`` is the id)."""
        return None

    def events(self, store: str) -> list[Row] | None:
        """Events a topic would carry for the seeded data."""
        return None

    def check(self, reader: Reader) -> Iterator[str]:
        """Violations of this domain's invariants in the seeded stores."""
        return iter(())
