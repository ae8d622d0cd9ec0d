-- The inventory service consumes order.placed (stacks/tcgstore.yaml: order-placed).
-- processed_events: each order it handled, written in the same transaction as the order's
-- stock movements, so a redelivery after a crash changes nothing (service_events/dedupe.py).
-- stock_shortages: an order the stock could not cover is applied to no level (all or
-- nothing) and recorded here, one row per short line, so it is visible and can be acted on.

-- migrate:up
CREATE TABLE processed_events (
    consumer     text        NOT NULL,
    event_id     text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT processed_events_pkey PRIMARY KEY (consumer, event_id)
);

CREATE TABLE stock_shortages (
    order_id    varchar(64)  NOT NULL,  -- references order: Orders.OrderId by ID
    card_id     varchar(64)  NOT NULL,
    requested   integer      NOT NULL,
    available   integer      NOT NULL,
    recorded_at timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT stock_shortages_pkey PRIMARY KEY (order_id, card_id),
    CONSTRAINT stock_shortages_requested_check CHECK (requested > 0),
    CONSTRAINT stock_shortages_available_check CHECK (available >= 0 AND available < requested)
);

-- migrate:down
DROP TABLE stock_shortages;
DROP TABLE processed_events;
