"""seed: deterministic demo data for local or cloud stacks."""
