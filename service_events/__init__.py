"""Events between services: a JSON envelope on the topics the topology declares.

A service publishes only the events its ``event``/``analytics`` links say it produces and
consumes only the topics it is declared to consume (:mod:`service_events.catalog`); every event
travels in one envelope (:mod:`service_events.envelope`), keyed by its entity so one entity's
events stay in order. The Kafka connection comes from the environment
(:mod:`service_events.kafka_config`): plaintext to the local Kafka, MSK IAM in AWS — same code.
"""

from service_events.catalog import Catalog, NotDeclared
from service_events.client import Publisher, PublishError, Subscriber, publisher_from_env
from service_events.envelope import Envelope, EnvelopeError
from service_events.kafka_config import client_config

__all__ = [
    "Catalog",
    "Envelope",
    "EnvelopeError",
    "NotDeclared",
    "PublishError",
    "Publisher",
    "Subscriber",
    "client_config",
    "publisher_from_env",
]
