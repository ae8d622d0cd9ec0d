-- product_db, owned by the product service: catalog, variants, stock per variant,
-- reviews. Other services hold products.id by ID (carts, orders, wishlists).

-- migrate:up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
    id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    parent_id   uuid,
    name        varchar(120)  NOT NULL,
    slug        varchar(120)  NOT NULL,
    description text,
    position    integer       NOT NULL DEFAULT 0,
    is_active   boolean       NOT NULL DEFAULT true,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT categories_pkey PRIMARY KEY (id),
    CONSTRAINT categories_parent_id_fkey FOREIGN KEY (parent_id)
        REFERENCES categories (id) ON DELETE RESTRICT,
    CONSTRAINT categories_slug_key UNIQUE (slug),
    CONSTRAINT categories_not_own_parent_check CHECK (parent_id <> id)
);

CREATE INDEX idx_categories_parent ON categories (parent_id);

CREATE TABLE products (
    id               uuid           NOT NULL DEFAULT gen_random_uuid(),
    sku              varchar(64)    NOT NULL,
    slug             varchar(255)   NOT NULL,
    name             varchar(255)   NOT NULL,
    description      text,
    brand            varchar(120),
    price            numeric(12, 2) NOT NULL,
    compare_at_price numeric(12, 2),
    cost_price       numeric(12, 2),
    currency         char(3)        NOT NULL DEFAULT 'USD',
    status           varchar(16)    NOT NULL DEFAULT 'draft',
    weight_grams     integer,
    attributes       jsonb          NOT NULL DEFAULT '{}'::jsonb,
    avg_rating       numeric(3, 2),
    review_count     integer        NOT NULL DEFAULT 0,
    created_at       timestamptz    NOT NULL DEFAULT now(),
    updated_at       timestamptz    NOT NULL DEFAULT now(),
    deleted_at       timestamptz,
    CONSTRAINT products_pkey PRIMARY KEY (id),
    CONSTRAINT products_sku_key UNIQUE (sku),
    CONSTRAINT products_slug_key UNIQUE (slug),
    CONSTRAINT products_price_check CHECK (price >= 0),
    CONSTRAINT products_compare_at_price_check CHECK (compare_at_price IS NULL OR compare_at_price >= price),
    CONSTRAINT products_cost_price_check CHECK (cost_price IS NULL OR cost_price >= 0),
    CONSTRAINT products_status_check CHECK (status IN ('draft', 'active', 'archived')),
    CONSTRAINT products_weight_grams_check CHECK (weight_grams IS NULL OR weight_grams >= 0)
);

CREATE INDEX idx_products_status_created ON products (status, created_at DESC);
CREATE INDEX idx_products_name_trgm ON products USING gin (name gin_trgm_ops);

CREATE TABLE product_categories (
    product_id  uuid        NOT NULL,
    category_id uuid        NOT NULL,
    is_primary  boolean     NOT NULL DEFAULT false,
    position    integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT product_categories_pkey PRIMARY KEY (product_id, category_id),
    CONSTRAINT product_categories_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_categories_category_id_fkey FOREIGN KEY (category_id)
        REFERENCES categories (id) ON DELETE CASCADE
);

-- products of a category (the PK serves categories of a product)
CREATE INDEX idx_product_categories_category ON product_categories (category_id);

CREATE TABLE product_variants (
    id               uuid           NOT NULL DEFAULT gen_random_uuid(),
    product_id       uuid           NOT NULL,
    sku              varchar(64)    NOT NULL,
    name             varchar(255)   NOT NULL,
    options          jsonb          NOT NULL DEFAULT '{}'::jsonb,  -- {"size": "M", "color": "red"}
    price            numeric(12, 2),  -- NULL: the product's price
    compare_at_price numeric(12, 2),
    barcode          varchar(64),
    weight_grams     integer,
    position         integer        NOT NULL DEFAULT 0,
    is_active        boolean        NOT NULL DEFAULT true,
    created_at       timestamptz    NOT NULL DEFAULT now(),
    updated_at       timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT product_variants_pkey PRIMARY KEY (id),
    CONSTRAINT product_variants_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_variants_sku_key UNIQUE (sku),
    CONSTRAINT product_variants_price_check CHECK (price IS NULL OR price >= 0)
);

CREATE INDEX idx_product_variants_product ON product_variants (product_id);

CREATE TABLE product_images (
    id         uuid         NOT NULL DEFAULT gen_random_uuid(),
    product_id uuid         NOT NULL,
    variant_id uuid,
    url        text         NOT NULL,
    alt_text   varchar(255),
    width      integer,
    height     integer,
    position   integer      NOT NULL DEFAULT 0,
    is_primary boolean      NOT NULL DEFAULT false,
    created_at timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT product_images_pkey PRIMARY KEY (id),
    CONSTRAINT product_images_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_images_variant_id_fkey FOREIGN KEY (variant_id)
        REFERENCES product_variants (id) ON DELETE SET NULL
);

CREATE INDEX idx_product_images_product ON product_images (product_id, position);
CREATE INDEX idx_product_images_variant ON product_images (variant_id);

-- Stock per variant and warehouse; same optimistic-locking contract as everywhere
-- (UPDATE ... WHERE id = $1 AND version = $2).
CREATE TABLE inventory (
    id                uuid         NOT NULL DEFAULT gen_random_uuid(),
    variant_id        uuid         NOT NULL,
    warehouse_code    varchar(32)  NOT NULL DEFAULT 'default',
    quantity_on_hand  integer      NOT NULL DEFAULT 0,
    quantity_reserved integer      NOT NULL DEFAULT 0,
    reorder_level     integer      NOT NULL DEFAULT 0,
    version           bigint       NOT NULL DEFAULT 1,
    updated_at        timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT inventory_pkey PRIMARY KEY (id),
    CONSTRAINT inventory_variant_id_fkey FOREIGN KEY (variant_id)
        REFERENCES product_variants (id) ON DELETE CASCADE,
    CONSTRAINT inventory_variant_id_warehouse_code_key UNIQUE (variant_id, warehouse_code),
    CONSTRAINT inventory_quantity_on_hand_check CHECK (quantity_on_hand >= 0),
    CONSTRAINT inventory_quantity_reserved_check
        CHECK (quantity_reserved >= 0 AND quantity_reserved <= quantity_on_hand)
);

CREATE TABLE reviews (
    id                   uuid          NOT NULL DEFAULT gen_random_uuid(),
    product_id           uuid          NOT NULL,
    user_id              uuid          NOT NULL,  -- references auth: users.id by ID
    order_id             uuid,                    -- references order: orders.id by ID (verified purchase)
    rating               smallint      NOT NULL,
    title                varchar(200),
    body                 text,
    status               varchar(16)   NOT NULL DEFAULT 'pending',
    is_verified_purchase boolean       NOT NULL DEFAULT false,
    helpful_count        integer       NOT NULL DEFAULT 0,
    created_at           timestamptz   NOT NULL DEFAULT now(),
    updated_at           timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT reviews_pkey PRIMARY KEY (id),
    CONSTRAINT reviews_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT reviews_product_id_user_id_key UNIQUE (product_id, user_id),
    CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5),
    CONSTRAINT reviews_status_check CHECK (status IN ('pending', 'approved', 'rejected'))
);

CREATE INDEX idx_reviews_product_created ON reviews (product_id, created_at DESC);
CREATE INDEX idx_reviews_user ON reviews (user_id);

CREATE TABLE product_tags (
    product_id uuid         NOT NULL,
    tag        varchar(64)  NOT NULL,
    created_at timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT product_tags_pkey PRIMARY KEY (product_id, tag),
    CONSTRAINT product_tags_product_id_fkey FOREIGN KEY (product_id)
        REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT product_tags_tag_check CHECK (tag = lower(tag))
);

CREATE INDEX idx_product_tags_tag ON product_tags (tag);

-- migrate:down
DROP TABLE product_tags;
DROP TABLE reviews;
DROP TABLE inventory;
DROP TABLE product_images;
DROP TABLE product_variants;
DROP TABLE product_categories;
DROP TABLE products;
DROP TABLE categories;
DROP EXTENSION IF EXISTS pg_trgm;
