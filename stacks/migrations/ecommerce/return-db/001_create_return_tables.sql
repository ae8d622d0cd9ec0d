-- return_db, owned by the return service: return requests against an order (orders.id
-- by ID), their items, the RMA, status and tracking history, and the refunds it asks
-- the payment service for (payments.id by ID).

-- migrate:up
CREATE TABLE return_requests (
    id             uuid         NOT NULL DEFAULT gen_random_uuid(),
    order_id       uuid         NOT NULL,  -- references order: orders.id by ID
    user_id        uuid         NOT NULL,  -- references auth: users.id by ID
    status         varchar(16)  NOT NULL DEFAULT 'requested',
    reason_code    varchar(32)  NOT NULL,
    customer_notes text,
    refund_method  varchar(24)  NOT NULL DEFAULT 'original_payment',
    requested_at   timestamptz  NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    created_at     timestamptz  NOT NULL DEFAULT now(),
    updated_at     timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT return_requests_pkey PRIMARY KEY (id),
    CONSTRAINT return_requests_status_check CHECK (status IN (
        'requested', 'approved', 'rejected', 'in_transit', 'received', 'inspected',
        'refunded', 'closed', 'cancelled')),
    CONSTRAINT return_requests_refund_method_check
        CHECK (refund_method IN ('original_payment', 'store_credit', 'exchange'))
);

CREATE INDEX idx_return_requests_order ON return_requests (order_id);
CREATE INDEX idx_return_requests_user_created ON return_requests (user_id, created_at DESC);

CREATE TABLE return_items (
    id                uuid           NOT NULL DEFAULT gen_random_uuid(),
    return_request_id uuid           NOT NULL,
    order_item_id     uuid           NOT NULL,  -- references order: order_items.id by ID
    product_id        uuid           NOT NULL,  -- references product: products.id by ID
    quantity          integer        NOT NULL,
    reason_code       varchar(32),
    item_condition    varchar(16),
    refund_amount     numeric(12, 2),
    created_at        timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT return_items_pkey PRIMARY KEY (id),
    CONSTRAINT return_items_return_request_id_fkey FOREIGN KEY (return_request_id)
        REFERENCES return_requests (id) ON DELETE CASCADE,
    CONSTRAINT return_items_quantity_check CHECK (quantity > 0),
    CONSTRAINT return_items_refund_amount_check CHECK (refund_amount IS NULL OR refund_amount >= 0),
    CONSTRAINT return_items_condition_check CHECK (item_condition IN (
        'unopened', 'like_new', 'used', 'damaged', 'defective'))
);

-- the items of a request; unique, so an order item appears once per request
CREATE UNIQUE INDEX idx_return_items_request ON return_items (return_request_id, order_item_id);
CREATE INDEX idx_return_items_order_item ON return_items (order_item_id);

-- The RMA issued when a request is approved: one per request.
CREATE TABLE return_authorizations (
    id                  uuid          NOT NULL DEFAULT gen_random_uuid(),
    return_request_id   uuid          NOT NULL,
    rma_number          varchar(32)   NOT NULL,
    authorized_by       varchar(64)   NOT NULL,  -- staff id or 'system' (auto-approval)
    return_carrier_code varchar(32),
    return_label_url    text,
    instructions        text,
    expires_at          timestamptz   NOT NULL,
    issued_at           timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT return_authorizations_pkey PRIMARY KEY (id),
    CONSTRAINT return_authorizations_return_request_id_fkey FOREIGN KEY (return_request_id)
        REFERENCES return_requests (id) ON DELETE CASCADE,
    CONSTRAINT return_authorizations_return_request_id_key UNIQUE (return_request_id),
    CONSTRAINT return_authorizations_rma_number_key UNIQUE (rma_number)
);

CREATE TABLE return_status_history (
    id                uuid         NOT NULL DEFAULT gen_random_uuid(),
    return_request_id uuid         NOT NULL,
    from_status       varchar(16),
    to_status         varchar(16)  NOT NULL,
    changed_by        varchar(64)  NOT NULL DEFAULT 'system',
    note              text,
    created_at        timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT return_status_history_pkey PRIMARY KEY (id),
    CONSTRAINT return_status_history_return_request_id_fkey FOREIGN KEY (return_request_id)
        REFERENCES return_requests (id) ON DELETE CASCADE
);

CREATE INDEX idx_return_status_history_request
    ON return_status_history (return_request_id, created_at);

-- Carrier events of the parcel travelling back.
CREATE TABLE return_tracking (
    id                uuid          NOT NULL DEFAULT gen_random_uuid(),
    return_request_id uuid          NOT NULL,
    carrier_code      varchar(32)   NOT NULL,
    tracking_number   varchar(128)  NOT NULL,
    status            varchar(24)   NOT NULL,
    description       text,
    location          varchar(255),
    occurred_at       timestamptz   NOT NULL,
    recorded_at       timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT return_tracking_pkey PRIMARY KEY (id),
    CONSTRAINT return_tracking_return_request_id_fkey FOREIGN KEY (return_request_id)
        REFERENCES return_requests (id) ON DELETE CASCADE
);

CREATE INDEX idx_return_tracking_request_time ON return_tracking (return_request_id, occurred_at);
CREATE INDEX idx_return_tracking_number ON return_tracking (tracking_number);

-- What the return service asked the payment service to refund, and the outcome.
CREATE TABLE refunds (
    id                uuid           NOT NULL DEFAULT gen_random_uuid(),
    return_request_id uuid           NOT NULL,
    payment_id        uuid           NOT NULL,  -- references payment: payments.id by ID
    payment_refund_id uuid,                     -- references payment: refunds.id by ID, once accepted
    amount            numeric(12, 2) NOT NULL,
    currency          char(3)        NOT NULL DEFAULT 'USD',
    status            varchar(16)    NOT NULL DEFAULT 'pending',
    failure_reason    text,
    requested_at      timestamptz    NOT NULL DEFAULT now(),
    completed_at      timestamptz,
    created_at        timestamptz    NOT NULL DEFAULT now(),
    updated_at        timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT refunds_pkey PRIMARY KEY (id),
    CONSTRAINT refunds_return_request_id_fkey FOREIGN KEY (return_request_id)
        REFERENCES return_requests (id) ON DELETE RESTRICT,
    CONSTRAINT refunds_amount_check CHECK (amount > 0),
    CONSTRAINT refunds_status_check
        CHECK (status IN ('pending', 'requested', 'succeeded', 'failed', 'cancelled'))
);

CREATE INDEX idx_refunds_payment ON refunds (payment_id);
CREATE INDEX idx_refunds_return_request ON refunds (return_request_id);

-- migrate:down
DROP TABLE refunds;
DROP TABLE return_tracking;
DROP TABLE return_status_history;
DROP TABLE return_authorizations;
DROP TABLE return_items;
DROP TABLE return_requests;
