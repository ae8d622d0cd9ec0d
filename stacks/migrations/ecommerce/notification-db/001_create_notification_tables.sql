-- notification_db, owned by the notification service: templates, per-user channel
-- preferences, the notifications themselves (monthly partitions) and delivery logs.

-- migrate:up
CREATE TABLE email_templates (
    id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    name        varchar(128)  NOT NULL,  -- 'order.confirmed', 'password.reset', ...
    description text,
    subject     varchar(255)  NOT NULL,
    body_html   text          NOT NULL,
    body_text   text,
    variables   jsonb         NOT NULL DEFAULT '[]'::jsonb,  -- placeholders the template needs
    version     integer       NOT NULL DEFAULT 1,
    is_active   boolean       NOT NULL DEFAULT true,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT email_templates_pkey PRIMARY KEY (id),
    CONSTRAINT email_templates_name_key UNIQUE (name)
);

-- One row per user, channel and notification type ('*' = every type of that channel).
CREATE TABLE notification_preferences (
    id                uuid         NOT NULL DEFAULT gen_random_uuid(),
    user_id           uuid         NOT NULL,  -- references auth: users.id by ID
    channel           varchar(16)  NOT NULL,
    notification_type varchar(64)  NOT NULL DEFAULT '*',
    is_enabled        boolean      NOT NULL DEFAULT true,
    quiet_hours_start time,
    quiet_hours_end   time,
    created_at        timestamptz  NOT NULL DEFAULT now(),
    updated_at        timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT notification_preferences_pkey PRIMARY KEY (id),
    CONSTRAINT notification_preferences_user_channel_type_key
        UNIQUE (user_id, channel, notification_type),
    CONSTRAINT notification_preferences_channel_check
        CHECK (channel IN ('email', 'sms', 'push', 'in_app'))
);

-- migrate:down
DROP TABLE notification_preferences;
DROP TABLE email_templates;
