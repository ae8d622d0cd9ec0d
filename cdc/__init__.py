"""CDC from PostgreSQL into a DynamoDB read model: the parts AWS and the local stack share.

``connector`` generates the Debezium connector configuration from a CDC link (infra's
Kafka Connect task and local provisioning register the same one); ``transform`` turns a
Debezium change event into item operations by the transform the link declares; ``sink``
writes them with version guards; ``handler`` is the AWS Lambda for an MSK event source
mapping; ``consumer`` feeds that handler the same event shape from a local Kafka.
``transform``, ``sink``, ``msk`` and ``handler`` import neither the topology nor pydantic:
they are what the Lambda package carries.
"""
