"""The tag vocabulary that ties deployed resources back to the topology.

infra/ writes these tags; policy/ reads them (offline and inside CrossGuard, where the
Pulumi program is not importable). One definition keeps writer and reader in step.
system/service/environment travel as the default tags of one provider per service; the
components add what differs from one resource to the next (store, role, link, tier).
"""

from __future__ import annotations

TAG_SYSTEM = "polystore:system"
TAG_SERVICE = "polystore:service"  # owning service, SHARED_SERVICE for platform resources
TAG_ENVIRONMENT = "polystore:environment"
TAG_STORE = "polystore:store"  # the one store a resource implements
TAG_STORES = "polystore:stores"  # space-separated: a resource hosting several stores
TAG_ROLE = "polystore:role"  # what a workload identity (SG, role, task, function) is
TAG_LINK = "polystore:link"  # the topology link a platform workload serves
TAG_TIER = "polystore:tier"  # subnets: public | private | isolated
TAG_ROTATION = "polystore:rotation"  # "not-supported: <why>" exempts a secret from rotation

# values of TAG_ROLE
ROLE_SERVICE = "service"  # a topology service's own workload
ROLE_CDC_CONNECTOR = "cdc-connector"  # Kafka Connect running Debezium
ROLE_KAFKA_ADMIN = "kafka-admin"
ROLE_STREAM_TO_SEARCH = "stream-to-search"
ROLE_CDC_SINK = "cdc-sink"
ROLE_SEARCH_BOOTSTRAP = "search-bootstrap"
ROLE_REINDEX = "reindex"  # the one-off task rebuilding a stream-to-search link's index
ROLE_DB_SETUP = "db-setup"  # a store's one-off setup task (python -m dbsetup), as its owner
