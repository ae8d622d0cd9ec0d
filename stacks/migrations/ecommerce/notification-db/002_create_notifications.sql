-- Notifications, partitioned by month (high volume, read as "a user's recent
-- notifications", retained by dropping old partitions). Partitions 2024-01 .. 2027-12
-- plus DEFAULT; a scheduled job adds months ahead of time.

-- migrate:up
CREATE TABLE notifications (
    id                uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id           uuid          NOT NULL,  -- references auth: users.id by ID
    channel           varchar(16)   NOT NULL,
    notification_type varchar(64)   NOT NULL,  -- 'order.shipped', ...
    template_id       uuid,
    source_event_id   varchar(128),            -- the event that caused it, by ID
    title             varchar(255),
    body              text,
    data              jsonb         NOT NULL DEFAULT '{}'::jsonb,
    status            varchar(16)   NOT NULL DEFAULT 'pending',
    priority          smallint      NOT NULL DEFAULT 0,
    scheduled_at      timestamptz,
    sent_at           timestamptz,
    read_at           timestamptz,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT notifications_pkey PRIMARY KEY (id, created_at),
    CONSTRAINT notifications_template_id_fkey FOREIGN KEY (template_id)
        REFERENCES email_templates (id) ON DELETE SET NULL,
    CONSTRAINT notifications_channel_check
        CHECK (channel IN ('email', 'sms', 'push', 'in_app')),
    CONSTRAINT notifications_status_check
        CHECK (status IN ('pending', 'sent', 'delivered', 'failed', 'read', 'cancelled'))
) PARTITION BY RANGE (created_at);

CREATE INDEX idx_notifications_user_created ON notifications (user_id, created_at);
-- the dispatcher reads only what is still to send
CREATE INDEX idx_notifications_pending ON notifications (scheduled_at)
    WHERE status = 'pending';
CREATE INDEX idx_notifications_source_event ON notifications (source_event_id)
    WHERE source_event_id IS NOT NULL;

CREATE TABLE notifications_y2024m01 PARTITION OF notifications
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-02-01 00:00:00+00');
CREATE TABLE notifications_y2024m02 PARTITION OF notifications
    FOR VALUES FROM ('2024-02-01 00:00:00+00') TO ('2024-03-01 00:00:00+00');
CREATE TABLE notifications_y2024m03 PARTITION OF notifications
    FOR VALUES FROM ('2024-03-01 00:00:00+00') TO ('2024-04-01 00:00:00+00');
CREATE TABLE notifications_y2024m04 PARTITION OF notifications
    FOR VALUES FROM ('2024-04-01 00:00:00+00') TO ('2024-05-01 00:00:00+00');
CREATE TABLE notifications_y2024m05 PARTITION OF notifications
    FOR VALUES FROM ('2024-05-01 00:00:00+00') TO ('2024-06-01 00:00:00+00');
CREATE TABLE notifications_y2024m06 PARTITION OF notifications
    FOR VALUES FROM ('2024-06-01 00:00:00+00') TO ('2024-07-01 00:00:00+00');
CREATE TABLE notifications_y2024m07 PARTITION OF notifications
    FOR VALUES FROM ('2024-07-01 00:00:00+00') TO ('2024-08-01 00:00:00+00');
CREATE TABLE notifications_y2024m08 PARTITION OF notifications
    FOR VALUES FROM ('2024-08-01 00:00:00+00') TO ('2024-09-01 00:00:00+00');
CREATE TABLE notifications_y2024m09 PARTITION OF notifications
    FOR VALUES FROM ('2024-09-01 00:00:00+00') TO ('2024-10-01 00:00:00+00');
CREATE TABLE notifications_y2024m10 PARTITION OF notifications
    FOR VALUES FROM ('2024-10-01 00:00:00+00') TO ('2024-11-01 00:00:00+00');
CREATE TABLE notifications_y2024m11 PARTITION OF notifications
    FOR VALUES FROM ('2024-11-01 00:00:00+00') TO ('2024-12-01 00:00:00+00');
CREATE TABLE notifications_y2024m12 PARTITION OF notifications
    FOR VALUES FROM ('2024-12-01 00:00:00+00') TO ('2025-01-01 00:00:00+00');
CREATE TABLE notifications_y2025m01 PARTITION OF notifications
    FOR VALUES FROM ('2025-01-01 00:00:00+00') TO ('2025-02-01 00:00:00+00');
CREATE TABLE notifications_y2025m02 PARTITION OF notifications
    FOR VALUES FROM ('2025-02-01 00:00:00+00') TO ('2025-03-01 00:00:00+00');
CREATE TABLE notifications_y2025m03 PARTITION OF notifications
    FOR VALUES FROM ('2025-03-01 00:00:00+00') TO ('2025-04-01 00:00:00+00');
CREATE TABLE notifications_y2025m04 PARTITION OF notifications
    FOR VALUES FROM ('2025-04-01 00:00:00+00') TO ('2025-05-01 00:00:00+00');
CREATE TABLE notifications_y2025m05 PARTITION OF notifications
    FOR VALUES FROM ('2025-05-01 00:00:00+00') TO ('2025-06-01 00:00:00+00');
CREATE TABLE notifications_y2025m06 PARTITION OF notifications
    FOR VALUES FROM ('2025-06-01 00:00:00+00') TO ('2025-07-01 00:00:00+00');
CREATE TABLE notifications_y2025m07 PARTITION OF notifications
    FOR VALUES FROM ('2025-07-01 00:00:00+00') TO ('2025-08-01 00:00:00+00');
CREATE TABLE notifications_y2025m08 PARTITION OF notifications
    FOR VALUES FROM ('2025-08-01 00:00:00+00') TO ('2025-09-01 00:00:00+00');
CREATE TABLE notifications_y2025m09 PARTITION OF notifications
    FOR VALUES FROM ('2025-09-01 00:00:00+00') TO ('2025-10-01 00:00:00+00');
CREATE TABLE notifications_y2025m10 PARTITION OF notifications
    FOR VALUES FROM ('2025-10-01 00:00:00+00') TO ('2025-11-01 00:00:00+00');
CREATE TABLE notifications_y2025m11 PARTITION OF notifications
    FOR VALUES FROM ('2025-11-01 00:00:00+00') TO ('2025-12-01 00:00:00+00');
CREATE TABLE notifications_y2025m12 PARTITION OF notifications
    FOR VALUES FROM ('2025-12-01 00:00:00+00') TO ('2026-01-01 00:00:00+00');
CREATE TABLE notifications_y2026m01 PARTITION OF notifications
    FOR VALUES FROM ('2026-01-01 00:00:00+00') TO ('2026-02-01 00:00:00+00');
CREATE TABLE notifications_y2026m02 PARTITION OF notifications
    FOR VALUES FROM ('2026-02-01 00:00:00+00') TO ('2026-03-01 00:00:00+00');
CREATE TABLE notifications_y2026m03 PARTITION OF notifications
    FOR VALUES FROM ('2026-03-01 00:00:00+00') TO ('2026-04-01 00:00:00+00');
CREATE TABLE notifications_y2026m04 PARTITION OF notifications
    FOR VALUES FROM ('2026-04-01 00:00:00+00') TO ('2026-05-01 00:00:00+00');
CREATE TABLE notifications_y2026m05 PARTITION OF notifications
    FOR VALUES FROM ('2026-05-01 00:00:00+00') TO ('2026-06-01 00:00:00+00');
CREATE TABLE notifications_y2026m06 PARTITION OF notifications
    FOR VALUES FROM ('2026-06-01 00:00:00+00') TO ('2026-07-01 00:00:00+00');
CREATE TABLE notifications_y2026m07 PARTITION OF notifications
    FOR VALUES FROM ('2026-07-01 00:00:00+00') TO ('2026-08-01 00:00:00+00');
CREATE TABLE notifications_y2026m08 PARTITION OF notifications
    FOR VALUES FROM ('2026-08-01 00:00:00+00') TO ('2026-09-01 00:00:00+00');
CREATE TABLE notifications_y2026m09 PARTITION OF notifications
    FOR VALUES FROM ('2026-09-01 00:00:00+00') TO ('2026-10-01 00:00:00+00');
CREATE TABLE notifications_y2026m10 PARTITION OF notifications
    FOR VALUES FROM ('2026-10-01 00:00:00+00') TO ('2026-11-01 00:00:00+00');
CREATE TABLE notifications_y2026m11 PARTITION OF notifications
    FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00');
CREATE TABLE notifications_y2026m12 PARTITION OF notifications
    FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');
CREATE TABLE notifications_y2027m01 PARTITION OF notifications
    FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00');
CREATE TABLE notifications_y2027m02 PARTITION OF notifications
    FOR VALUES FROM ('2027-02-01 00:00:00+00') TO ('2027-03-01 00:00:00+00');
CREATE TABLE notifications_y2027m03 PARTITION OF notifications
    FOR VALUES FROM ('2027-03-01 00:00:00+00') TO ('2027-04-01 00:00:00+00');
CREATE TABLE notifications_y2027m04 PARTITION OF notifications
    FOR VALUES FROM ('2027-04-01 00:00:00+00') TO ('2027-05-01 00:00:00+00');
CREATE TABLE notifications_y2027m05 PARTITION OF notifications
    FOR VALUES FROM ('2027-05-01 00:00:00+00') TO ('2027-06-01 00:00:00+00');
CREATE TABLE notifications_y2027m06 PARTITION OF notifications
    FOR VALUES FROM ('2027-06-01 00:00:00+00') TO ('2027-07-01 00:00:00+00');
CREATE TABLE notifications_y2027m07 PARTITION OF notifications
    FOR VALUES FROM ('2027-07-01 00:00:00+00') TO ('2027-08-01 00:00:00+00');
CREATE TABLE notifications_y2027m08 PARTITION OF notifications
    FOR VALUES FROM ('2027-08-01 00:00:00+00') TO ('2027-09-01 00:00:00+00');
CREATE TABLE notifications_y2027m09 PARTITION OF notifications
    FOR VALUES FROM ('2027-09-01 00:00:00+00') TO ('2027-10-01 00:00:00+00');
CREATE TABLE notifications_y2027m10 PARTITION OF notifications
    FOR VALUES FROM ('2027-10-01 00:00:00+00') TO ('2027-11-01 00:00:00+00');
CREATE TABLE notifications_y2027m11 PARTITION OF notifications
    FOR VALUES FROM ('2027-11-01 00:00:00+00') TO ('2027-12-01 00:00:00+00');
CREATE TABLE notifications_y2027m12 PARTITION OF notifications
    FOR VALUES FROM ('2027-12-01 00:00:00+00') TO ('2028-01-01 00:00:00+00');
CREATE TABLE notifications_default PARTITION OF notifications DEFAULT;

-- One row per delivery attempt / provider callback. No foreign key to notifications:
-- that table is time-partitioned and its old months are dropped, which an incoming
-- foreign key would block; logs are pruned on the same schedule.
CREATE TABLE notification_logs (
    id                      uuid          NOT NULL DEFAULT gen_random_uuid(),
    notification_id         uuid          NOT NULL,
    notification_created_at timestamptz   NOT NULL,  -- with notification_id, the row's key
    channel                 varchar(16)   NOT NULL,
    provider                varchar(32)   NOT NULL,  -- 'ses', 'sns', 'fcm', ...
    provider_message_id     varchar(255),
    status                  varchar(16)   NOT NULL,
    attempt                 smallint      NOT NULL DEFAULT 1,
    error_code              varchar(64),
    error_message           text,
    response                jsonb,
    created_at              timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT notification_logs_pkey PRIMARY KEY (id),
    CONSTRAINT notification_logs_status_check CHECK (status IN (
        'queued', 'sent', 'delivered', 'bounced', 'complained', 'failed', 'opened', 'clicked'))
);

CREATE INDEX idx_notification_logs_notification
    ON notification_logs (notification_id, created_at);
CREATE INDEX idx_notification_logs_provider_message
    ON notification_logs (provider_message_id) WHERE provider_message_id IS NOT NULL;
CREATE INDEX idx_notification_logs_created ON notification_logs (created_at);

-- migrate:down
DROP TABLE notification_logs;
-- dropping the partitioned parent drops its partitions
DROP TABLE notifications;
