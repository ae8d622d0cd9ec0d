-- payment_db, owned by the payment service. payments is hash-partitioned by order_id (8
-- partitions): all payments of an order share a partition; its primary key includes
-- order_id, and in-service children reference (id, order_id).

-- migrate:up
-- Provider tokens, encrypted with a KMS data key (key id kept for rotation); the
-- fingerprint (provider's, not the PAN) detects the same card saved twice.
CREATE TABLE payment_methods (
    id                   uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id              uuid          NOT NULL,  -- references auth: users.id by ID
    provider             varchar(32)   NOT NULL,
    provider_customer_id varchar(255),
    token_ciphertext     bytea         NOT NULL,
    token_key_id         varchar(255)  NOT NULL,
    token_fingerprint    varchar(128)  NOT NULL,
    method_type          varchar(16)   NOT NULL,
    card_brand           varchar(32),
    card_last4           char(4),
    card_exp_month       smallint,
    card_exp_year        smallint,
    is_default           boolean       NOT NULL DEFAULT false,
    created_at           timestamptz   NOT NULL DEFAULT now(),
    updated_at           timestamptz   NOT NULL DEFAULT now(),
    deleted_at           timestamptz,
    CONSTRAINT payment_methods_pkey PRIMARY KEY (id),
    CONSTRAINT payment_methods_user_id_token_fingerprint_key UNIQUE (user_id, token_fingerprint),
    CONSTRAINT payment_methods_method_type_check
        CHECK (method_type IN ('card', 'paypal', 'bank_account', 'wallet')),
    CONSTRAINT payment_methods_card_exp_month_check CHECK (card_exp_month BETWEEN 1 AND 12)
);

CREATE TABLE payments (
    id                  uuid           NOT NULL DEFAULT gen_random_uuid(),
    order_id            uuid           NOT NULL,  -- references order: orders.id by ID
    user_id             uuid           NOT NULL,  -- references auth: users.id by ID
    payment_method_id   uuid,
    provider            varchar(32)    NOT NULL,
    provider_payment_id varchar(255),
    idempotency_key     varchar(128)   NOT NULL,
    status              varchar(24)    NOT NULL DEFAULT 'pending',
    amount              numeric(12, 2) NOT NULL,
    amount_refunded     numeric(12, 2) NOT NULL DEFAULT 0,
    currency            char(3)        NOT NULL DEFAULT 'USD',
    failure_code        varchar(64),
    failure_message     text,
    authorized_at       timestamptz,
    captured_at         timestamptz,
    created_at          timestamptz    NOT NULL DEFAULT now(),
    updated_at          timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT payments_pkey PRIMARY KEY (id, order_id),
    CONSTRAINT payments_payment_method_id_fkey FOREIGN KEY (payment_method_id)
        REFERENCES payment_methods (id) ON DELETE SET NULL,
    CONSTRAINT payments_amount_check CHECK (amount > 0),
    CONSTRAINT payments_amount_refunded_check
        CHECK (amount_refunded >= 0 AND amount_refunded <= amount),
    CONSTRAINT payments_status_check CHECK (status IN (
        'pending', 'authorized', 'captured', 'failed', 'cancelled', 'refunded',
        'partially_refunded'))
) PARTITION BY HASH (order_id);

CREATE TABLE payments_p0 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE payments_p1 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE payments_p2 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE payments_p3 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE payments_p4 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE payments_p5 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE payments_p6 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE payments_p7 PARTITION OF payments FOR VALUES WITH (MODULUS 8, REMAINDER 7);

-- the payments of an order; also makes a retried request with the same idempotency key
-- a conflict (a unique index of a partitioned table must contain order_id anyway)
CREATE UNIQUE INDEX idx_payments_order ON payments (order_id, idempotency_key);
CREATE INDEX idx_payments_user_created ON payments (user_id, created_at DESC);
CREATE INDEX idx_payments_provider_payment ON payments (provider, provider_payment_id);
CREATE INDEX idx_payments_payment_method ON payments (payment_method_id);

-- Every call to the provider (authorize, capture, void, refund) and its outcome.
CREATE TABLE payment_transactions (
    id                      uuid           NOT NULL DEFAULT gen_random_uuid(),
    payment_id              uuid           NOT NULL,
    order_id                uuid           NOT NULL,
    transaction_type        varchar(16)    NOT NULL,
    status                  varchar(16)    NOT NULL,
    amount                  numeric(12, 2) NOT NULL,
    currency                char(3)        NOT NULL,
    provider_transaction_id varchar(255),
    error_code              varchar(64),
    error_message           text,
    raw_response            jsonb,
    created_at              timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT payment_transactions_pkey PRIMARY KEY (id),
    CONSTRAINT payment_transactions_payment_fkey FOREIGN KEY (payment_id, order_id)
        REFERENCES payments (id, order_id) ON DELETE CASCADE,
    CONSTRAINT payment_transactions_amount_check CHECK (amount >= 0),
    CONSTRAINT payment_transactions_type_check CHECK (transaction_type IN (
        'authorize', 'capture', 'void', 'refund', 'chargeback')),
    CONSTRAINT payment_transactions_status_check
        CHECK (status IN ('pending', 'succeeded', 'failed'))
);

CREATE INDEX idx_payment_transactions_payment ON payment_transactions (payment_id, created_at);
CREATE INDEX idx_payment_transactions_provider
    ON payment_transactions (provider_transaction_id);

CREATE TABLE refunds (
    id                 uuid           NOT NULL DEFAULT gen_random_uuid(),
    payment_id         uuid           NOT NULL,
    order_id           uuid           NOT NULL,
    return_request_id  uuid,  -- references return: return_requests.id by ID
    idempotency_key    varchar(128)   NOT NULL,
    amount             numeric(12, 2) NOT NULL,
    currency           char(3)        NOT NULL,
    reason             varchar(64),
    status             varchar(16)    NOT NULL DEFAULT 'pending',
    provider_refund_id varchar(255),
    failure_message    text,
    processed_at       timestamptz,
    created_at         timestamptz    NOT NULL DEFAULT now(),
    updated_at         timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT refunds_pkey PRIMARY KEY (id),
    CONSTRAINT refunds_payment_fkey FOREIGN KEY (payment_id, order_id)
        REFERENCES payments (id, order_id) ON DELETE RESTRICT,
    CONSTRAINT refunds_idempotency_key_key UNIQUE (idempotency_key),
    CONSTRAINT refunds_provider_refund_id_key UNIQUE (provider_refund_id),
    CONSTRAINT refunds_amount_check CHECK (amount > 0),
    CONSTRAINT refunds_status_check
        CHECK (status IN ('pending', 'succeeded', 'failed', 'cancelled'))
);

CREATE INDEX idx_refunds_payment ON refunds (payment_id);
CREATE INDEX idx_refunds_return_request ON refunds (return_request_id)
    WHERE return_request_id IS NOT NULL;

-- Raw provider webhooks; the unique provider event id makes redelivery harmless.
CREATE TABLE payment_webhooks (
    id                 uuid          NOT NULL DEFAULT gen_random_uuid(),
    provider           varchar(32)   NOT NULL,
    provider_event_id  varchar(255)  NOT NULL,
    event_type         varchar(128)  NOT NULL,
    payload            jsonb         NOT NULL,
    signature_verified boolean       NOT NULL DEFAULT false,
    status             varchar(16)   NOT NULL DEFAULT 'received',
    attempts           integer       NOT NULL DEFAULT 0,
    last_error         text,
    received_at        timestamptz   NOT NULL DEFAULT now(),
    processed_at       timestamptz,
    CONSTRAINT payment_webhooks_pkey PRIMARY KEY (id),
    CONSTRAINT payment_webhooks_provider_event_id_key UNIQUE (provider, provider_event_id),
    CONSTRAINT payment_webhooks_status_check
        CHECK (status IN ('received', 'processed', 'failed', 'ignored'))
);

CREATE INDEX idx_payment_webhooks_status_received ON payment_webhooks (status, received_at)
    WHERE status IN ('received', 'failed');

-- migrate:down
DROP TABLE payment_webhooks;
DROP TABLE refunds;
DROP TABLE payment_transactions;
-- dropping the partitioned parent drops its partitions
DROP TABLE payments;
DROP TABLE payment_methods;
