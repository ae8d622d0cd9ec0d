"""The events library without a broker: envelope, what a service may publish/consume,
and the Kafka settings chosen from the environment."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from polystore import load_topology
from polystore.topology.model import Topology
from service_events import Catalog, Envelope, EnvelopeError, NotDeclared, client_config
from service_events.dedupe import SeenEvents
from service_events.kafka_config import KafkaConfigError


@pytest.fixture(scope="module")
def topology() -> Topology:
    return load_topology()


def test_envelope_round_trip() -> None:
    env = Envelope(type="user.created", producer="ecommerce.auth", key="u-1",
                   data={"user_id": "u-1", "email": "a@example.com"})  # fmt: skip
    back = Envelope.from_bytes(env.to_bytes())
    assert back == env
    body = json.loads(env.to_bytes())
    assert set(body) == {"id", "type", "time", "producer", "schema_version", "key", "data"}
    assert body["time"].endswith("Z") and body["schema_version"] == 1
    assert Envelope(type="x", producer="p", key="k", data={}).id != env.id


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (None, "tombstone"),
        (b"not json", "not JSON"),
        (b"[1]", "JSON object"),
        (b'{"id": "1"}', "lacks type, time, producer, schema_version, key, data"),
        (b'{"id":"1","type":"t","time":"x","producer":"p","schema_version":0,"key":"k",'
         b'"data":{}}', "schema_version must be a positive integer"),
        (b'{"id":"1","type":"t","time":"x","producer":"p","schema_version":1,"key":"k",'
         b'"data":[]}', "data must be a dict"),
    ],
)  # fmt: skip
def test_bad_envelopes_say_what_and_where(raw: bytes | None, fragment: str) -> None:
    with pytest.raises(EnvelopeError, match="t-0@5") as err:
        Envelope.from_bytes(raw, "t-0@5")
    assert fragment in str(err.value)


def test_catalog_of_a_producer(topology: Topology) -> None:
    auth = Catalog.of(topology.system("ecommerce"), "auth", "local", env={})
    assert auth.produces == {"user.created": "ecommerce-local-auth.events"}
    assert auth.topic_for("user.created") == "ecommerce-local-auth.events"
    with pytest.raises(NotDeclared, match=r"ecommerce\.auth may not publish 'order.created'.*"
                                          r"declare it produces: user\.created"):  # fmt: skip
        auth.topic_for("order.created")


def test_catalog_reads_the_physical_topic_from_the_environment(topology: Topology) -> None:
    cat = Catalog.of(topology.system("ecommerce"), "auth", "prod",
                     env={"KAFKA_TOPIC_AUTH_EVENTS": "custom-topic"})  # fmt: skip
    assert cat.topic_for("user.created") == "custom-topic"


def test_analytics_events_are_publishable(topology: Topology) -> None:
    api = Catalog.of(topology.system("bellyfed"), "restaurant-api", "local", env={})
    assert api.topic_for("RESTAURANT_VIEWED") == "bellyfed-local-bellyfed.analytics"
    assert set(api.produces) == {
        "RESTAURANTS_LISTED",
        "RESTAURANT_VIEWED",
        "RESTAURANT_MENU_VIEWED",
        "RESTAURANT_REVIEWS_VIEWED",
    }


def test_consumers_get_only_declared_topics_and_types(topology: Topology) -> None:
    payment = Catalog.of(topology.system("ecommerce"), "payment", "local", env={})
    orders = [t for t in payment.consumes if "order" in t]
    assert orders == ["ecommerce-local-order.events"]
    # payment consumes order.created and order.cancelled, not order.confirmed
    assert payment.consumes[orders[0]] == {"order.created", "order.cancelled"}
    assert payment.check_topics(None) == sorted(payment.consumes)
    with pytest.raises(NotDeclared, match=r"not declared to consume topic 'ecommerce-local-"
                                          r"auth\.events'"):  # fmt: skip
        payment.check_topics(["ecommerce-local-auth.events"])


def test_a_service_consuming_nothing_cannot_subscribe(topology: Topology) -> None:
    api = Catalog.of(topology.system("bellyfed"), "restaurant-api", "local", env={})
    with pytest.raises(NotDeclared, match="consumes no topic"):
        api.check_topics(None)


def test_unknown_service_is_refused(topology: Topology) -> None:
    with pytest.raises(NotDeclared, match="'ghost' is not a service of bellyfed"):
        Catalog.of(topology.system("bellyfed"), "ghost", "local", env={})


def test_plaintext_locally() -> None:
    cfg = client_config({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"})
    assert cfg == {"bootstrap.servers": "127.0.0.1:9092", "security.protocol": "PLAINTEXT"}


def test_msk_iam_in_aws_signs_a_token_from_the_credentials() -> None:
    env = {"KAFKA_BOOTSTRAP_SERVERS": "b-1.msk:9098", "KAFKA_SASL_MECHANISM": "AWS_MSK_IAM",
           "AWS_REGION": "eu-west-1"}  # fmt: skip
    cfg = client_config(env)
    assert cfg["security.protocol"] == "SASL_SSL" and cfg["sasl.mechanism"] == "OAUTHBEARER"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "secret")
        mp.delenv("AWS_PROFILE", raising=False)
        token, expiry = cfg["oauth_cb"]("")
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    parts = urlsplit(url)
    assert parts.netloc == "kafka.eu-west-1.amazonaws.com"
    query = parse_qs(parts.query)
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
    assert expiry > 1_700_000_000


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({}, "KAFKA_BOOTSTRAP_SERVERS is not set"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_SASL_MECHANISM": "SCRAM"}, "expected"),
        ({"KAFKA_BOOTSTRAP_SERVERS": "b:1", "KAFKA_SASL_MECHANISM": "AWS_MSK_IAM"},
         "needs AWS_REGION"),
    ],
)  # fmt: skip
def test_bad_environment_is_a_clear_error(env: dict[str, str], fragment: str) -> None:
    with pytest.raises(KafkaConfigError, match=fragment):
        client_config(env)


def test_seen_events_forgets_the_oldest() -> None:
    seen = SeenEvents(capacity=2)
    assert [seen.first_time(i) for i in ("a", "b", "a", "c", "b", "a")] == [
        True,
        True,
        False,
        True,
        True,
        True,
    ]  # fmt: skip  (c evicts b: least recently seen)


def test_publisher_from_env_checks_before_any_broker(topology: Topology) -> None:
    from service_events import publisher_from_env

    pub = publisher_from_env(topology.system("bellyfed"), "restaurant-api",
                             {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                              "KAFKA_TOPIC_ANALYTICS_TOPIC": "custom-analytics"})  # fmt: skip
    assert pub.catalog.topic_for("RESTAURANT_VIEWED") == "custom-analytics"
    with pytest.raises(NotDeclared, match=r"may not publish 'order\.created'"):
        pub.publish("order.created", "k", {})


CLOSE_UNREACHABLE = """
import time
from polystore import load_topology
from service_events import Catalog, PublishError
from service_events.client import Publisher

system = load_topology().system("ecommerce")
pub = Publisher(Catalog.of(system, "order", "local", env={}),
                {"bootstrap.servers": "127.0.0.1:9", "security.protocol": "PLAINTEXT",
                 "log_level": 0})
pub.publish("order.created", "o-1", {"order_id": "o-1"})
t0 = time.monotonic()
try:
    pub.close(timeout=1.0)
except PublishError as exc:
    print("refused:", exc)
print("seconds:", round(time.monotonic() - t0, 1))
pub.close()  # a second close does nothing
try:
    pub.publish("order.created", "o-2", {"order_id": "o-2"})
except PublishError as exc:
    print("after close:", exc)
"""


def test_close_names_what_was_not_delivered_and_leaves_no_noise_at_exit() -> None:
    """close() flushes first: what the broker did not acknowledge is an error naming it, not
    a silent drop; then the producer is shut down, so librdkafka has nothing to say at exit
    (no "Producer terminating with N message(s) still in queue")."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CLOSE_UNREACHABLE], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "refused: 1 event(s) unacknowledged after 1.0s" in done.stdout
    seconds = float(done.stdout.split("seconds:")[1].split()[0])
    assert seconds < 5, done.stdout  # bounded by the timeout, not by librdkafka's retries
    assert "after close: the publisher is closed" in done.stdout
    assert "TERMINATE" not in done.stderr, done.stderr
