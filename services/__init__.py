"""services: one thin HTTP service per declared service, the same code locally and on ECS.

A service serves its access patterns as read endpoints generated from the topology
(``routes``), plus the write flows its system's seed describes (``flows/``), reading its
configuration only from the standard environment (``config``): libpq's ``PG*``,
boto3's ``AWS_*``, ``OPENSEARCH_URL``, ``KAFKA_BOOTSTRAP_SERVERS`` and the physical
names of its own tables, indexes and topics — the list ``polystore env`` prints and the
ECS task definition sets. ``python -m services SYSTEM.SERVICE`` runs one.
"""
