"""The Kafka engine (one KRaft node): serves topic stores. Its faces live in
``emulation/kafka/`` (broker, jars, topics, containers); the plug-in is ``plugin.KAFKA``."""

from emulation.kafka.plugin import KAFKA as ENGINE

__all__ = ["ENGINE"]
