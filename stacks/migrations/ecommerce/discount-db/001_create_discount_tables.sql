-- discount_db, owned by the discount service: coupon codes, automatic promotions with
-- their rules, and usage of both. Orders record coupons.code by ID.

-- migrate:up
CREATE TABLE promotions (
    id            uuid           NOT NULL DEFAULT gen_random_uuid(),
    name          varchar(200)   NOT NULL,
    description   text,
    promotion_type varchar(16)   NOT NULL,
    status        varchar(16)    NOT NULL DEFAULT 'draft',
    priority      integer        NOT NULL DEFAULT 0,  -- higher applies first
    is_stackable  boolean        NOT NULL DEFAULT false,
    budget_amount numeric(12, 2),
    currency      char(3)        NOT NULL DEFAULT 'USD',
    usage_limit   integer,
    usage_limit_per_user integer,
    starts_at     timestamptz    NOT NULL,
    ends_at       timestamptz,
    created_at    timestamptz    NOT NULL DEFAULT now(),
    updated_at    timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT promotions_pkey PRIMARY KEY (id),
    CONSTRAINT promotions_type_check
        CHECK (promotion_type IN ('cart', 'product', 'category', 'shipping', 'bogo')),
    CONSTRAINT promotions_status_check
        CHECK (status IN ('draft', 'scheduled', 'active', 'paused', 'ended')),
    CONSTRAINT promotions_window_check CHECK (ends_at IS NULL OR ends_at > starts_at),
    CONSTRAINT promotions_budget_check CHECK (budget_amount IS NULL OR budget_amount >= 0)
);

-- promotions live now: status = 'active' AND starts_at <= now() AND ...
CREATE INDEX idx_promotions_status_window ON promotions (status, starts_at, ends_at);

-- Conditions ("subtotal >= 50", "category in [...]") and actions ("10 % off") of a
-- promotion, evaluated in position order.
CREATE TABLE promotion_rules (
    id           uuid         NOT NULL DEFAULT gen_random_uuid(),
    promotion_id uuid         NOT NULL,
    rule_kind    varchar(16)  NOT NULL,
    rule_type    varchar(64)  NOT NULL,  -- 'min_subtotal', 'category_in', 'percent_off', ...
    operator     varchar(16),
    value        jsonb        NOT NULL,
    position     integer      NOT NULL DEFAULT 0,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT promotion_rules_pkey PRIMARY KEY (id),
    CONSTRAINT promotion_rules_promotion_id_fkey FOREIGN KEY (promotion_id)
        REFERENCES promotions (id) ON DELETE CASCADE,
    CONSTRAINT promotion_rules_kind_check CHECK (rule_kind IN ('condition', 'action'))
);

CREATE INDEX idx_promotion_rules_promotion ON promotion_rules (promotion_id, position);

CREATE TABLE coupons (
    id                   uuid           NOT NULL DEFAULT gen_random_uuid(),
    code                 varchar(64)    NOT NULL,
    promotion_id         uuid,           -- a coupon may unlock a campaign's promotion
    description          text,
    discount_type        varchar(16)    NOT NULL,
    discount_value       numeric(12, 2) NOT NULL,
    currency             char(3)        NOT NULL DEFAULT 'USD',
    min_order_amount     numeric(12, 2),
    max_discount_amount  numeric(12, 2),
    usage_limit          integer,
    usage_limit_per_user integer,
    times_used           integer        NOT NULL DEFAULT 0,
    starts_at            timestamptz    NOT NULL DEFAULT now(),
    ends_at              timestamptz,
    is_active            boolean        NOT NULL DEFAULT true,
    created_at           timestamptz    NOT NULL DEFAULT now(),
    updated_at           timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT coupons_pkey PRIMARY KEY (id),
    CONSTRAINT coupons_code_key UNIQUE (code),
    CONSTRAINT coupons_promotion_id_fkey FOREIGN KEY (promotion_id)
        REFERENCES promotions (id) ON DELETE SET NULL,
    CONSTRAINT coupons_code_upper_check CHECK (code = upper(code)),
    CONSTRAINT coupons_discount_type_check
        CHECK (discount_type IN ('percentage', 'fixed_amount', 'free_shipping')),
    CONSTRAINT coupons_discount_value_check CHECK (
        discount_value >= 0 AND (discount_type <> 'percentage' OR discount_value <= 100)),
    CONSTRAINT coupons_usage_check CHECK (
        times_used >= 0 AND (usage_limit IS NULL OR times_used <= usage_limit)),
    CONSTRAINT coupons_window_check CHECK (ends_at IS NULL OR ends_at > starts_at)
);

CREATE INDEX idx_coupons_promotion ON coupons (promotion_id) WHERE promotion_id IS NOT NULL;

CREATE TABLE coupon_usage (
    id              uuid           NOT NULL DEFAULT gen_random_uuid(),
    coupon_id       uuid           NOT NULL,
    user_id         uuid           NOT NULL,  -- references auth: users.id by ID
    order_id        uuid           NOT NULL,  -- references order: orders.id by ID
    discount_amount numeric(12, 2) NOT NULL,
    currency        char(3)        NOT NULL DEFAULT 'USD',
    used_at         timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT coupon_usage_pkey PRIMARY KEY (id),
    CONSTRAINT coupon_usage_coupon_id_fkey FOREIGN KEY (coupon_id)
        REFERENCES coupons (id) ON DELETE RESTRICT,
    CONSTRAINT coupon_usage_coupon_id_order_id_key UNIQUE (coupon_id, order_id),
    CONSTRAINT coupon_usage_discount_amount_check CHECK (discount_amount >= 0)
);

-- per-user limit: count(*) WHERE coupon_id = $1 AND user_id = $2
CREATE INDEX idx_coupon_usage_coupon_user ON coupon_usage (coupon_id, user_id);
CREATE INDEX idx_coupon_usage_order ON coupon_usage (order_id);

CREATE TABLE promotion_usage (
    id              uuid           NOT NULL DEFAULT gen_random_uuid(),
    promotion_id    uuid           NOT NULL,
    user_id         uuid,                     -- references auth: users.id by ID (NULL: guest)
    order_id        uuid           NOT NULL,  -- references order: orders.id by ID
    discount_amount numeric(12, 2) NOT NULL,
    currency        char(3)        NOT NULL DEFAULT 'USD',
    used_at         timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT promotion_usage_pkey PRIMARY KEY (id),
    CONSTRAINT promotion_usage_promotion_id_fkey FOREIGN KEY (promotion_id)
        REFERENCES promotions (id) ON DELETE RESTRICT,
    CONSTRAINT promotion_usage_promotion_id_order_id_key UNIQUE (promotion_id, order_id),
    CONSTRAINT promotion_usage_discount_amount_check CHECK (discount_amount >= 0)
);

CREATE INDEX idx_promotion_usage_promotion_user ON promotion_usage (promotion_id, user_id);
CREATE INDEX idx_promotion_usage_order ON promotion_usage (order_id);

-- migrate:down
DROP TABLE promotion_usage;
DROP TABLE coupon_usage;
DROP TABLE coupons;
DROP TABLE promotion_rules;
DROP TABLE promotions;
