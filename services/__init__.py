"""services: thin HTTP services serving each system's access patterns."""
