-- The user service consumes events (user.created, product.*): the id of each event it
-- handled, written in the same transaction as the event's effect, so a redelivery after
-- a crash changes nothing (events/dedupe.py: claim_in_postgres).

-- migrate:up
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT processed_events_pkey PRIMARY KEY (consumer, event_id)
);

-- migrate:down
DROP TABLE processed_events;
