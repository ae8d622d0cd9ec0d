"""The local CDC sink: a Kafka consumer that feeds ``cdc.handler`` the MSK event shape.

    python -m cdc.consumer --system bellyfed --link bellyfed-cdc [--dead-letter FILE]

Environment as the Lambda's: ``KAFKA_BOOTSTRAP_SERVERS`` (and ``KAFKA_SASL_MECHANISM``,
see ``service_events.kafka_config``), boto3's ``AWS_*`` with ``AWS_ENDPOINT_URL_DYNAMODB``, the
read-model table variable (default: the local name from ``polystore.naming``) and
``CDC_SINK_SPEC`` (default: built from the topology, ``$POLYSTORE_STACKS`` or
``--stacks``, by the same function infra uses).

Nothing lost: offsets are committed only after the handler applied the batch, so a
kill -9 at any point replays from the last commit, and the sink's version guards make
the replay a no-op. A DynamoDB failure rewinds to the batch's first offsets and retries
with backoff. A poison record (one the transform cannot read) is written to
``--dead-letter`` (JSON lines: where, why, the MSK record) and skipped; without
``--dead-letter`` the consumer stops at it and retries, so nothing is skipped silently.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from cdc.handler import SPEC_ENV, PoisonRecords, handle
from cdc.msk import KafkaRecord, msk_event, where
from cdc.sink import ReadModelSink
from cdc.transform import SinkSpec

log = logging.getLogger("cdc.consumer")


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m cdc.consumer",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--system", required=True)
    p.add_argument("--link", required=True, help="the CDC link (its topic and target)")
    p.add_argument("--stacks", type=Path, default=None, help="the stacks dir (topology)")
    p.add_argument("--group", default=None, help="consumer group (default: <prefix>-<link>-sink)")
    p.add_argument("--batch", type=int, default=500, help="records per handler call")
    p.add_argument("--dead-letter", type=Path, default=None)
    return p.parse_args(argv)


def _setup(args: argparse.Namespace) -> tuple[SinkSpec, str, str, str]:
    """Spec, table, topic and group: from the environment, else from the topology."""
    from cdc.plan import sink_spec
    from polystore import load_topology
    from polystore.naming import local_name

    system = load_topology([args.stacks] if args.stacks else None).system(args.system)
    link = system.cdc_links().get(args.link)
    if link is None:
        raise SystemExit(f"{args.system} has no CDC link {args.link!r} "
                         f"(links: {', '.join(system.cdc_links()) or 'none'})")  # fmt: skip
    text = os.environ.get(SPEC_ENV)
    spec = SinkSpec.from_json(text) if text else sink_spec(system, args.link)
    table = os.environ.get(spec.table_env) or local_name(system, link.target)
    topic = local_name(system, link.topic)
    group = args.group or f"{system.name}-local-{args.link}-sink"
    return spec, table, topic, group


def _record(msg: Any) -> KafkaRecord:
    _, ts = msg.timestamp()
    return KafkaRecord(topic=msg.topic(), partition=msg.partition(), offset=msg.offset(),
                       timestamp=ts, key=msg.key(), value=msg.value(),
                       headers=tuple(msg.headers() or ()))  # fmt: skip


class SinkConsumer:
    def __init__(self, consumer: Any, sink: ReadModelSink, topic: str, batch: int,
                 dead_letter: Path | None) -> None:  # fmt: skip
        self.consumer, self.sink, self.batch, self.dead_letter = consumer, sink, batch, dead_letter
        self.topic = topic
        self.stopping = False
        self.applied = 0

    def run(self) -> None:
        self.consumer.subscribe([self.topic])
        backoff = 0.1
        while not self.stopping:
            first = self.consumer.poll(0.5)
            if first is None:
                continue
            more = self.consumer.consume(self.batch - 1, timeout=0.005) if self.batch > 1 else []
            msgs = [first, *more]
            good = []
            for m in msgs:
                if m.error():
                    log.warning("kafka: %s", m.error())
                else:
                    good.append(m)
            if not good:
                continue
            records = [_record(m) for m in good]
            try:
                handle(msk_event(records, source_arn="local"), self.sink)
            except PoisonRecords as exc:
                if self.dead_letter is None:
                    log.error("%s; stopping here (no --dead-letter): retrying", exc)
                    self._rewind(records)
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                self._bury(exc)
            except Exception as exc:  # DynamoDB unreachable, throttled, ...
                head = records[0]
                log.error("batch failed, will retry from %s-%d@%d: %s",
                          head.topic, head.partition, head.offset, exc)  # fmt: skip
                self._rewind(records)
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            self._commit(records)
            self.applied += len(records)

    def _commit(self, records: list[KafkaRecord]) -> None:
        from confluent_kafka import TopicPartition

        last: dict[tuple[str, int], int] = {}
        for r in records:
            last[(r.topic, r.partition)] = max(last.get((r.topic, r.partition), -1), r.offset)
        self.consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in last.items()],
                             asynchronous=False)  # fmt: skip

    def _rewind(self, records: list[KafkaRecord]) -> None:
        from confluent_kafka import TopicPartition

        first: dict[tuple[str, int], int] = {}
        for r in records:
            key = (r.topic, r.partition)
            first[key] = min(first.get(key, r.offset), r.offset)
        for (t, p), o in first.items():
            self.consumer.seek(TopicPartition(t, p, o))

    def _bury(self, exc: PoisonRecords) -> None:
        assert self.dead_letter is not None
        self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
        with self.dead_letter.open("a") as fh:
            for record in exc.records:
                fh.write(json.dumps({"where": where(record), "why": str(exc),
                                     "record": record}) + "\n")  # fmt: skip
            fh.flush()
            os.fsync(fh.fileno())
        log.error("%s; written to %s", exc, self.dead_letter)


def main(argv: list[str] | None = None) -> None:
    import boto3
    from confluent_kafka import Consumer

    from service_events.kafka_config import client_config

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")  # fmt: skip
    args = _args(argv)
    spec, table, topic, group = _setup(args)
    # Static membership: a consumer restarted after a kill -9 takes its partitions back at
    # once instead of waiting for the dead member's session to expire (one per link).
    consumer = Consumer({**client_config(), "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "group.instance.id": f"{group}-0",
                         "session.timeout.ms": 10000})  # fmt: skip
    sink = ReadModelSink(boto3.client("dynamodb"), table, spec)
    runner = SinkConsumer(consumer, sink, topic, args.batch, args.dead_letter)

    def stop(_sig: int, _frame: Any) -> None:
        runner.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("cdc sink %s: %s → %s (group %s)", spec.link, topic, table, group)
    try:
        runner.run()
    finally:
        consumer.close()
        log.info("stopped after %d records", runner.applied)


if __name__ == "__main__":
    main()
