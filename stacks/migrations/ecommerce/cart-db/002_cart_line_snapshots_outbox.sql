-- cart publishes cart.checked_out through an outbox and consumes order.created (the cart
-- records the order it became). Cart lines keep the catalog's sku and name as they were
-- when added (like unit_price), so the order snapshots them without reading product_db.

-- migrate:up
ALTER TABLE cart_items
    ADD COLUMN sku          varchar(64),
    ADD COLUMN product_name varchar(255);

-- The transactional outbox of this service's events: a row written in the same
-- transaction as the change it announces, relayed to Kafka after the commit and marked
-- sent (services/flows/ecommerce_outbox.py). A crash between the commit and the publish
-- leaves the row unsent and the relay publishes it on the next pass, with the same event
-- id, so consumers (who dedupe by that id) apply it once.
CREATE TABLE outbox (
    seq        bigint        GENERATED ALWAYS AS IDENTITY,
    event_id   uuid          NOT NULL,
    event_type varchar(128)  NOT NULL,
    event_key  varchar(255)  NOT NULL,
    envelope   jsonb         NOT NULL,  -- the whole envelope, exactly as it is published
    attempts   integer       NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz   NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    CONSTRAINT outbox_pkey PRIMARY KEY (seq),
    CONSTRAINT outbox_event_id_key UNIQUE (event_id)
);

-- what the relay reads: unsent rows in commit-causal order
CREATE INDEX idx_outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;

-- The id of each consumed event, written in the same transaction as its effect, so a
-- redelivery after a crash changes nothing (service_events/dedupe.py: claim_in_postgres).
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT processed_events_pkey PRIMARY KEY (consumer, event_id)
);

-- migrate:down
DROP TABLE processed_events;
DROP TABLE outbox;
ALTER TABLE cart_items DROP COLUMN product_name, DROP COLUMN sku;
