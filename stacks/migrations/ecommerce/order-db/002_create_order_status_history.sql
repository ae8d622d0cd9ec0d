-- Every status change of an order, partitioned by month (append-only, queried per order
-- and by recent time). Partitions 2024-01 .. 2027-12 plus DEFAULT; a scheduled job adds
-- months ahead of time.

-- migrate:up
CREATE TABLE order_status_history (
    id            uuid         NOT NULL DEFAULT gen_random_uuid(),
    order_id      uuid         NOT NULL,
    order_user_id uuid         NOT NULL,
    from_status   varchar(32),
    to_status     varchar(32)  NOT NULL,
    reason        text,
    changed_by    varchar(64)  NOT NULL DEFAULT 'system',  -- user / staff id, or 'system'
    metadata      jsonb        NOT NULL DEFAULT '{}'::jsonb,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT order_status_history_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT order_status_history_order_fkey FOREIGN KEY (order_id, order_user_id)
        REFERENCES orders (id, user_id) ON DELETE CASCADE
) PARTITION BY RANGE (created_at);

CREATE INDEX idx_order_status_history_order ON order_status_history (order_id, created_at);

CREATE TABLE order_status_history_y2024m01 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m02 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m03 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-03-01 00:00:00+00') TO ('2024-04-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m04 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-04-01 00:00:00+00') TO ('2024-05-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m05 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-05-01 00:00:00+00') TO ('2024-06-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m06 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-06-01 00:00:00+00') TO ('2024-07-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m07 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-07-01 00:00:00+00') TO ('2024-08-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m08 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-08-01 00:00:00+00') TO ('2024-09-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m09 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-09-01 00:00:00+00') TO ('2024-10-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m10 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-10-01 00:00:00+00') TO ('2024-11-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m11 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-11-01 00:00:00+00') TO ('2024-12-01 00:00:00+00');
CREATE TABLE order_status_history_y2024m12 PARTITION OF order_status_history
    FOR VALUES FROM ('2024-12-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m01 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m02 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m03 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-03-01 00:00:00+00') TO ('2025-04-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m04 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-04-01 00:00:00+00') TO ('2025-05-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m05 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-05-01 00:00:00+00') TO ('2025-06-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m06 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-06-01 00:00:00+00') TO ('2025-07-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m07 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-07-01 00:00:00+00') TO ('2025-08-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m08 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-08-01 00:00:00+00') TO ('2025-09-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m09 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-09-01 00:00:00+00') TO ('2025-10-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m10 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-10-01 00:00:00+00') TO ('2025-11-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m11 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-11-01 00:00:00+00') TO ('2025-12-01 00:00:00+00');
CREATE TABLE order_status_history_y2025m12 PARTITION OF order_status_history
    FOR VALUES FROM ('2025-12-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m01 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m02 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-02-01 00:00:00+00') TO ('2026-03-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m03 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m04 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-04-01 00:00:00+00') TO ('2026-05-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m05 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-05-01 00:00:00+00') TO ('2026-06-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m06 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-06-01 00:00:00+00') TO ('2026-07-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m07 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-07-01 00:00:00+00') TO ('2026-08-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m08 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-08-01 00:00:00+00') TO ('2026-09-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m09 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-09-01 00:00:00+00') TO ('2026-10-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m10 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m11 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00');
CREATE TABLE order_status_history_y2026m12 PARTITION OF order_status_history
    FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m01 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m02 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-02-01 00:00:00+00') TO ('2027-03-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m03 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-03-01 00:00:00+00') TO ('2027-04-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m04 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-04-01 00:00:00+00') TO ('2027-05-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m05 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-05-01 00:00:00+00') TO ('2027-06-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m06 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-06-01 00:00:00+00') TO ('2027-07-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m07 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-07-01 00:00:00+00') TO ('2027-08-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m08 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-08-01 00:00:00+00') TO ('2027-09-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m09 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-09-01 00:00:00+00') TO ('2027-10-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m10 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-10-01 00:00:00+00') TO ('2027-11-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m11 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-11-01 00:00:00+00') TO ('2027-12-01 00:00:00+00');
CREATE TABLE order_status_history_y2027m12 PARTITION OF order_status_history
    FOR VALUES FROM ('2027-12-01 00:00:00+00') TO ('2028-01-01 00:00:00+00');
CREATE TABLE order_status_history_default PARTITION OF order_status_history DEFAULT;

-- migrate:down
-- dropping the partitioned parent drops its partitions
DROP TABLE order_status_history;
