"""Kafka client settings from the environment: the same code locally and in AWS.

``KAFKA_BOOTSTRAP_SERVERS`` (required) says where; ``KAFKA_SASL_MECHANISM`` says how:
unset (or ``PLAINTEXT``) for the local Kafka, ``AWS_MSK_IAM`` for MSK with IAM auth —
then the client speaks SASL_SSL/OAUTHBEARER with tokens signed from the task's own
credentials (``aws-msk-iam-sasl-signer-python``) for ``AWS_REGION``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
MECHANISM_ENV = "KAFKA_SASL_MECHANISM"
MSK_IAM = "AWS_MSK_IAM"


class KafkaConfigError(RuntimeError):
    """The environment does not say how to reach Kafka."""


def client_config(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """librdkafka settings (confluent-kafka) for a producer, consumer or admin client."""
    env = os.environ if env is None else env
    bootstrap = env.get(BOOTSTRAP_ENV, "").strip()
    if not bootstrap:
        raise KafkaConfigError(
            f'{BOOTSTRAP_ENV} is not set: locally `eval "$(polystore env SYSTEM.SERVICE)"` '
            "sets it; in AWS the ECS task definition does"
        )
    mechanism = env.get(MECHANISM_ENV, "").strip().upper()
    if mechanism in ("", "PLAINTEXT", "NONE"):
        return {"bootstrap.servers": bootstrap, "security.protocol": "PLAINTEXT"}
    if mechanism != MSK_IAM:
        raise KafkaConfigError(f"{MECHANISM_ENV}={mechanism!r}: expected {MSK_IAM} or unset")
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise KafkaConfigError(f"{MECHANISM_ENV}={MSK_IAM} needs AWS_REGION")
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "oauth_cb": msk_token_callback(region),
    }


def msk_token_callback(region: str) -> Any:
    """librdkafka's ``oauth_cb``: (token, expiry in epoch seconds), signed locally."""

    def token(_config: str) -> tuple[str, float]:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        value, expiry_ms = MSKAuthTokenProvider.generate_auth_token(region)
        return value, expiry_ms / 1000

    return token
