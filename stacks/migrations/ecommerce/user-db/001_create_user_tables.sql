-- user_db, owned by the user service: profiles, addresses, tokenized payment methods,
-- preferences, wishlists. A profile is created from auth's user.created event with the
-- same user id; within this database user_profiles.user_id is the user's key.

-- migrate:up
CREATE TABLE user_profiles (
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id       uuid          NOT NULL,  -- references auth: users.id by ID
    first_name    varchar(100),
    last_name     varchar(100),
    display_name  varchar(100),
    phone         varchar(32),
    date_of_birth date,
    avatar_url    text,
    locale        varchar(16)   NOT NULL DEFAULT 'en-US',
    timezone      varchar(64)   NOT NULL DEFAULT 'UTC',
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    CONSTRAINT user_profiles_pkey PRIMARY KEY (id),
    CONSTRAINT user_profiles_user_id_key UNIQUE (user_id)
);

CREATE TABLE addresses (
    id             uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id        uuid          NOT NULL,
    address_type   varchar(16)   NOT NULL DEFAULT 'shipping',
    label          varchar(64),
    recipient_name varchar(200)  NOT NULL,
    company        varchar(200),
    line1          varchar(200)  NOT NULL,
    line2          varchar(200),
    city           varchar(100)  NOT NULL,
    region         varchar(100),
    postal_code    varchar(20),
    country_code   char(2)       NOT NULL,
    phone          varchar(32),
    is_default     boolean       NOT NULL DEFAULT false,
    created_at     timestamptz   NOT NULL DEFAULT now(),
    updated_at     timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT addresses_pkey PRIMARY KEY (id),
    CONSTRAINT addresses_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES user_profiles (user_id) ON DELETE CASCADE,
    CONSTRAINT addresses_address_type_check CHECK (address_type IN ('shipping', 'billing'))
);

CREATE INDEX idx_addresses_user ON addresses (user_id);
-- at most one default address per user and type
CREATE UNIQUE INDEX idx_addresses_user_type_default ON addresses (user_id, address_type)
    WHERE is_default;

-- Only the payment provider's token and display data; never card numbers.
CREATE TABLE payment_methods (
    id                 uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id            uuid          NOT NULL,
    provider           varchar(32)   NOT NULL,  -- 'stripe', 'paypal', ...
    provider_token     varchar(255)  NOT NULL,
    method_type        varchar(16)   NOT NULL,
    card_brand         varchar(32),
    card_last4         char(4),
    card_exp_month     smallint,
    card_exp_year      smallint,
    billing_address_id uuid,
    is_default         boolean       NOT NULL DEFAULT false,
    created_at         timestamptz   NOT NULL DEFAULT now(),
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT payment_methods_pkey PRIMARY KEY (id),
    CONSTRAINT payment_methods_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES user_profiles (user_id) ON DELETE CASCADE,
    CONSTRAINT payment_methods_billing_address_id_fkey FOREIGN KEY (billing_address_id)
        REFERENCES addresses (id) ON DELETE SET NULL,
    CONSTRAINT payment_methods_provider_token_key UNIQUE (provider, provider_token),
    CONSTRAINT payment_methods_method_type_check
        CHECK (method_type IN ('card', 'paypal', 'bank_account', 'wallet')),
    CONSTRAINT payment_methods_card_exp_month_check CHECK (card_exp_month BETWEEN 1 AND 12)
);

CREATE INDEX idx_payment_methods_user ON payment_methods (user_id);
CREATE INDEX idx_payment_methods_billing_address ON payment_methods (billing_address_id);

CREATE TABLE user_preferences (
    user_id           uuid         NOT NULL,
    language          varchar(16)  NOT NULL DEFAULT 'en',
    currency          char(3)      NOT NULL DEFAULT 'USD',
    marketing_opt_in  boolean      NOT NULL DEFAULT false,
    theme             varchar(16)  NOT NULL DEFAULT 'system',
    settings          jsonb        NOT NULL DEFAULT '{}'::jsonb,
    created_at        timestamptz  NOT NULL DEFAULT now(),
    updated_at        timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT user_preferences_pkey PRIMARY KEY (user_id),
    CONSTRAINT user_preferences_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES user_profiles (user_id) ON DELETE CASCADE
);

CREATE TABLE wishlist_items (
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid        NOT NULL,
    product_id uuid        NOT NULL,  -- references product: products.id by ID
    note       text,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wishlist_items_pkey PRIMARY KEY (id),
    CONSTRAINT wishlist_items_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES user_profiles (user_id) ON DELETE CASCADE,
    CONSTRAINT wishlist_items_user_id_product_id_key UNIQUE (user_id, product_id)
);

CREATE INDEX idx_wishlist_items_product ON wishlist_items (product_id);

-- Events consumed from other services (user.created, ...). The unique event_id makes
-- consumption idempotent: INSERT ... ON CONFLICT (event_id) DO NOTHING before handling.
CREATE TABLE event_logs (
    id             uuid          NOT NULL DEFAULT gen_random_uuid(),
    event_id       varchar(128)  NOT NULL,
    event_type     varchar(128)  NOT NULL,
    source_service varchar(64)   NOT NULL,
    payload        jsonb         NOT NULL,
    status         varchar(16)   NOT NULL DEFAULT 'received',
    attempts       integer       NOT NULL DEFAULT 0,
    last_error     text,
    received_at    timestamptz   NOT NULL DEFAULT now(),
    processed_at   timestamptz,
    CONSTRAINT event_logs_pkey PRIMARY KEY (id),
    CONSTRAINT event_logs_event_id_key UNIQUE (event_id),
    CONSTRAINT event_logs_status_check
        CHECK (status IN ('received', 'processed', 'failed', 'skipped'))
);

CREATE INDEX idx_event_logs_status_received ON event_logs (status, received_at)
    WHERE status IN ('received', 'failed');

-- migrate:down
DROP TABLE event_logs;
DROP TABLE wishlist_items;
DROP TABLE user_preferences;
DROP TABLE payment_methods;
DROP TABLE addresses;
DROP TABLE user_profiles;
