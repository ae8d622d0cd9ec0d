"""seed: deterministic, realistic, cross-store-consistent demo data (docs/seed.md).

``seed.api.seed`` (what ``polystore seed`` runs) and ``seed.api.seed_if_empty`` (what
``polystore up`` calls) build a plan per system from the topology plus a domain
generator (``seed/domains``), load it with each owning service's credentials and check
the invariants (``seed/verify.py``).
"""
