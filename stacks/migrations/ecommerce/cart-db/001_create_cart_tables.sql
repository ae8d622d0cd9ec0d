-- cart_db, owned by the cart service. A cart belongs to a signed-in user or to a guest
-- session; at checkout the order service records carts.id by ID.

-- migrate:up
CREATE TABLE carts (
    id                 uuid           NOT NULL DEFAULT gen_random_uuid(),
    user_id            uuid,          -- references auth: users.id by ID (NULL for a guest cart)
    session_id         varchar(128),  -- guest carts
    status             varchar(16)    NOT NULL DEFAULT 'active',
    currency           char(3)        NOT NULL DEFAULT 'USD',
    subtotal           numeric(12, 2) NOT NULL DEFAULT 0,
    item_count         integer        NOT NULL DEFAULT 0,
    converted_order_id uuid,          -- references order: orders.id by ID
    expires_at         timestamptz,
    created_at         timestamptz    NOT NULL DEFAULT now(),
    updated_at         timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT carts_pkey PRIMARY KEY (id),
    CONSTRAINT carts_owner_check CHECK (user_id IS NOT NULL OR session_id IS NOT NULL),
    CONSTRAINT carts_status_check
        CHECK (status IN ('active', 'converted', 'abandoned', 'merged', 'expired')),
    CONSTRAINT carts_totals_check CHECK (subtotal >= 0 AND item_count >= 0)
);

-- a user's current cart; unique, so a user has at most one active cart
CREATE UNIQUE INDEX idx_carts_user_active ON carts (user_id) WHERE status = 'active';
CREATE INDEX idx_carts_session ON carts (session_id) WHERE session_id IS NOT NULL;
-- abandoned-cart and expiry sweeps
CREATE INDEX idx_carts_status_updated ON carts (status, updated_at);

CREATE TABLE cart_items (
    id         uuid           NOT NULL DEFAULT gen_random_uuid(),
    cart_id    uuid           NOT NULL,
    product_id uuid           NOT NULL,  -- references product: products.id by ID
    variant_id uuid,                     -- references product: product_variants.id by ID
    quantity   integer        NOT NULL,
    unit_price numeric(12, 2) NOT NULL,  -- price when added; re-checked at checkout
    created_at timestamptz    NOT NULL DEFAULT now(),
    updated_at timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT cart_items_pkey PRIMARY KEY (id),
    CONSTRAINT cart_items_cart_id_fkey FOREIGN KEY (cart_id)
        REFERENCES carts (id) ON DELETE CASCADE,
    CONSTRAINT cart_items_quantity_check CHECK (quantity BETWEEN 1 AND 999),
    CONSTRAINT cart_items_unit_price_check CHECK (unit_price >= 0)
);

-- the items of a cart; unique so adding the same product/variant again is an upsert
-- (ON CONFLICT (cart_id, product_id, variant_id)); NULL variants count as equal
CREATE UNIQUE INDEX idx_cart_items_cart ON cart_items (cart_id, product_id, variant_id)
    NULLS NOT DISTINCT;
-- which carts hold a product (price change / delisting)
CREATE INDEX idx_cart_items_product ON cart_items (product_id);

-- migrate:down
DROP TABLE cart_items;
DROP TABLE carts;
