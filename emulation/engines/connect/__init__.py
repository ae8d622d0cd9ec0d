"""Kafka Connect with Debezium: needed where a system declares a CDC link. Its faces live
in ``emulation/kafka/`` (worker config, plugin path); the plug-in is ``plugin.CONNECT``."""

from emulation.kafka.plugin import CONNECT as ENGINE

__all__ = ["ENGINE"]
