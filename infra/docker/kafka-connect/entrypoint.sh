#!/bin/sh
# Kafka Connect worker on ECS.
#   1. CONNECT_* variables become worker properties (CONNECT_GROUP_ID -> group.id,
#      CONNECT_PRODUCER_SASL_MECHANISM -> producer.sasl.mechanism, ...); defaults below.
#   2. the distributed worker starts (its offsets/configs/status live in Kafka topics).
#   3. every connector of CONNECTOR_CONFIG (a JSON list of {name, config}, generated from
#      the topology by cdc.connector) is PUT to /connectors/<name>/config: idempotent, so
#      a restarted task re-registers the same config and Debezium resumes from its offsets.
# `entrypoint.sh --print-properties` prints the properties and exits (tests use it).
set -eu

PROPS=${CONNECT_PROPERTIES_FILE:-/tmp/connect-distributed.properties}
REST=http://127.0.0.1:8083

render() {
    cat <<DEFAULTS
plugin.path=/opt/connect/plugins
listeners=http://:8083
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
offset.flush.interval.ms=10000
DEFAULTS
    env | sort | while IFS='=' read -r key value; do
        case "$key" in
            CONNECT_PROPERTIES_FILE) continue ;;
            CONNECT_*) ;;
            *) continue ;;
        esac
        name=$(printf '%s' "${key#CONNECT_}" | tr 'A-Z_' 'a-z.')
        printf '%s=%s\n' "$name" "$value"
    done
}

if [ "${1:-}" = "--print-properties" ]; then
    render
    exit 0
fi

render > "$PROPS"
java ${KAFKA_HEAP_OPTS:--Xms512m -Xmx1536m} -Dlog4j2.level=INFO \
    -cp "/opt/connect/connect/*" org.apache.kafka.connect.cli.ConnectDistributed "$PROPS" &
worker=$!
trap 'kill -TERM "$worker" 2>/dev/null' TERM INT

tries=0
until curl -sf "$REST/" > /dev/null; do
    tries=$((tries + 1))
    if [ "$tries" -gt 180 ] || ! kill -0 "$worker" 2>/dev/null; then
        echo "kafka-connect: REST API not up after ${tries}s (worker alive: $(kill -0 "$worker" 2>/dev/null && echo yes || echo no))" >&2
        exit 1
    fi
    sleep 1
done

printf '%s' "${CONNECTOR_CONFIG:-[]}" | jq -c '.[]' | while read -r connector; do
    name=$(printf '%s' "$connector" | jq -r .name)
    printf '%s' "$connector" | jq -c .config \
        | curl -sf -X PUT -H 'Content-Type: application/json' --data-binary @- \
            "$REST/connectors/$name/config" > /dev/null
    echo "kafka-connect: connector $name registered"
done

wait "$worker"
