"""Lambda handlers the infra packages: the search bootstrap and a placeholder."""
