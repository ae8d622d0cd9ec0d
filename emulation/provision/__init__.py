"""Provisioning: databases, roles, tables and indexes created from the topology.

Every step is idempotent: running it on a provisioned stack changes nothing.
"""
