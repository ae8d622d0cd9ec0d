-- order_db, owned by the order service. orders is hash-partitioned by user_id (8
-- partitions): "my orders" touches one partition, and write load spreads evenly. Its
-- primary key therefore includes user_id, and in-service children reference
-- (id, user_id) through an order_user_id column.

-- migrate:up
CREATE TABLE orders (
    id              uuid           NOT NULL DEFAULT gen_random_uuid(),
    user_id         uuid           NOT NULL,  -- references user: user_profiles.user_id by ID
    cart_id         uuid,                     -- references cart: carts.id by ID
    coupon_code     varchar(64),              -- references discount: coupons.code by ID
    order_number    varchar(32)    NOT NULL,  -- human-facing; generated unique (see below)
    status          varchar(32)    NOT NULL DEFAULT 'pending',
    currency        char(3)        NOT NULL DEFAULT 'USD',
    subtotal        numeric(12, 2) NOT NULL,
    discount_total  numeric(12, 2) NOT NULL DEFAULT 0,
    shipping_total  numeric(12, 2) NOT NULL DEFAULT 0,
    tax_total       numeric(12, 2) NOT NULL DEFAULT 0,
    grand_total     numeric(12, 2) NOT NULL,
    placed_at       timestamptz,
    cancelled_at    timestamptz,
    created_at      timestamptz    NOT NULL DEFAULT now(),
    updated_at      timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT orders_pkey PRIMARY KEY (id, user_id),
    CONSTRAINT orders_status_check CHECK (status IN (
        'pending', 'confirmed', 'paid', 'processing', 'shipped', 'delivered',
        'cancelled', 'refunded')),
    CONSTRAINT orders_amounts_check CHECK (
        subtotal >= 0 AND discount_total >= 0 AND shipping_total >= 0 AND tax_total >= 0
        AND grand_total >= 0)
) PARTITION BY HASH (user_id);

CREATE TABLE orders_p0 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE orders_p1 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE orders_p2 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE orders_p3 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE orders_p4 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE orders_p5 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE orders_p6 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE orders_p7 PARTITION OF orders FOR VALUES WITH (MODULUS 8, REMAINDER 7);

CREATE INDEX idx_orders_user_status ON orders (user_id, status);
CREATE INDEX idx_orders_user_created ON orders (user_id, created_at DESC);
-- a unique index on a partitioned table must contain user_id, so order_number is unique
-- by construction (generated from a sequence), indexed here for support look-ups
CREATE INDEX idx_orders_order_number ON orders (order_number);
CREATE INDEX idx_orders_cart ON orders (cart_id) WHERE cart_id IS NOT NULL;
CREATE INDEX idx_orders_coupon_code ON orders (coupon_code) WHERE coupon_code IS NOT NULL;

CREATE TABLE order_items (
    id              uuid           NOT NULL DEFAULT gen_random_uuid(),
    order_id        uuid           NOT NULL,
    order_user_id   uuid           NOT NULL,
    product_id      uuid           NOT NULL,  -- references product: products.id by ID
    variant_id      uuid,                     -- references product: product_variants.id by ID
    sku             varchar(64)    NOT NULL,  -- snapshot at order time
    product_name    varchar(255)   NOT NULL,  -- snapshot at order time
    quantity        integer        NOT NULL,
    unit_price      numeric(12, 2) NOT NULL,
    discount_amount numeric(12, 2) NOT NULL DEFAULT 0,
    tax_amount      numeric(12, 2) NOT NULL DEFAULT 0,
    line_total      numeric(12, 2) NOT NULL,
    created_at      timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT order_items_pkey PRIMARY KEY (id),
    CONSTRAINT order_items_order_fkey FOREIGN KEY (order_id, order_user_id)
        REFERENCES orders (id, user_id) ON DELETE CASCADE,
    CONSTRAINT order_items_quantity_check CHECK (quantity > 0),
    CONSTRAINT order_items_amounts_check CHECK (
        unit_price >= 0 AND discount_amount >= 0 AND tax_amount >= 0 AND line_total >= 0)
);

CREATE INDEX idx_order_items_order ON order_items (order_id);
CREATE INDEX idx_order_items_product ON order_items (product_id);

-- Snapshot of the addresses at order time (the user may edit theirs later).
CREATE TABLE shipping_addresses (
    id             uuid          NOT NULL DEFAULT gen_random_uuid(),
    order_id       uuid          NOT NULL,
    order_user_id  uuid          NOT NULL,
    address_type   varchar(16)   NOT NULL DEFAULT 'shipping',
    recipient_name varchar(200)  NOT NULL,
    company        varchar(200),
    line1          varchar(200)  NOT NULL,
    line2          varchar(200),
    city           varchar(100)  NOT NULL,
    region         varchar(100),
    postal_code    varchar(20),
    country_code   char(2)       NOT NULL,
    phone          varchar(32),
    created_at     timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT shipping_addresses_pkey PRIMARY KEY (id),
    CONSTRAINT shipping_addresses_order_fkey FOREIGN KEY (order_id, order_user_id)
        REFERENCES orders (id, user_id) ON DELETE CASCADE,
    CONSTRAINT shipping_addresses_order_id_address_type_key UNIQUE (order_id, address_type),
    CONSTRAINT shipping_addresses_address_type_check
        CHECK (address_type IN ('shipping', 'billing'))
);

CREATE TABLE order_notes (
    id            uuid         NOT NULL DEFAULT gen_random_uuid(),
    order_id      uuid         NOT NULL,
    order_user_id uuid         NOT NULL,
    author_type   varchar(16)  NOT NULL,
    author_id     varchar(64),
    body          text         NOT NULL,
    is_internal   boolean      NOT NULL DEFAULT true,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT order_notes_pkey PRIMARY KEY (id),
    CONSTRAINT order_notes_order_fkey FOREIGN KEY (order_id, order_user_id)
        REFERENCES orders (id, user_id) ON DELETE CASCADE,
    CONSTRAINT order_notes_author_type_check
        CHECK (author_type IN ('customer', 'staff', 'system'))
);

CREATE INDEX idx_order_notes_order ON order_notes (order_id, created_at);

-- migrate:down
DROP TABLE order_notes;
DROP TABLE shipping_addresses;
DROP TABLE order_items;
-- dropping the partitioned parent drops its partitions
DROP TABLE orders;
