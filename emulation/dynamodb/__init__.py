"""polystore's own DynamoDB + DynamoDB Streams engine (SQLite storage, JSON wire API).

Run it with ``python -m emulation.dynamodb --port P --data-dir DIR``; see
``docs/dynamodb-engine.md`` for the design and what is not implemented.
"""
