-- bellyfed database (bellyfed), owned by restaurant-api. It is a CDC source (Debezium
-- reads the WAL): every table has a primary key so change events carry a usable key.

-- migrate:up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
    user_id      uuid          NOT NULL DEFAULT gen_random_uuid(),
    email        varchar(320)  NOT NULL,
    username     varchar(50)   NOT NULL,
    display_name varchar(100),
    avatar_url   text,
    home_city    varchar(100),
    preferences  jsonb         NOT NULL DEFAULT '{}'::jsonb,
    is_active    boolean       NOT NULL DEFAULT true,
    created_at   timestamptz   NOT NULL DEFAULT now(),
    updated_at   timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT users_pkey PRIMARY KEY (user_id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_email_lower_check CHECK (email = lower(email))
);

CREATE TABLE restaurants (
    restaurant_id uuid          NOT NULL DEFAULT gen_random_uuid(),
    name          varchar(200)  NOT NULL,
    slug          varchar(200)  NOT NULL,
    description   text,
    cuisine       varchar(64)   NOT NULL,  -- primary cuisine; all of them via restaurant_categories
    city          varchar(100)  NOT NULL,
    address_line1 varchar(200),
    address_line2 varchar(200),
    region        varchar(100),
    postal_code   varchar(20),
    country_code  char(2)       NOT NULL DEFAULT 'US',
    latitude      numeric(9, 6),
    longitude     numeric(9, 6),
    phone         varchar(32),
    website_url   text,
    price_range   smallint,  -- 1 ($) .. 4 ($$$$)
    avg_rating    numeric(3, 2),
    review_count  integer       NOT NULL DEFAULT 0,
    is_active     boolean       NOT NULL DEFAULT true,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT restaurants_pkey PRIMARY KEY (restaurant_id),
    CONSTRAINT restaurants_slug_key UNIQUE (slug),
    CONSTRAINT restaurants_price_range_check CHECK (price_range BETWEEN 1 AND 4),
    CONSTRAINT restaurants_latitude_check CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT restaurants_longitude_check CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT restaurants_avg_rating_check CHECK (avg_rating BETWEEN 1 AND 5),
    CONSTRAINT restaurants_review_count_check CHECK (review_count >= 0)
);

-- GET /restaurants?city=&cuisine= : city alone or city + cuisine use the composite,
-- cuisine alone has its own index.
CREATE INDEX idx_restaurants_city_cuisine ON restaurants (city, cuisine);
CREATE INDEX idx_restaurants_cuisine ON restaurants (cuisine);
-- partial / fuzzy name search (ILIKE '%ram%', similarity())
CREATE INDEX idx_restaurants_name_trgm ON restaurants USING gin (name gin_trgm_ops);

CREATE TABLE menu_items (
    item_id       uuid           NOT NULL DEFAULT gen_random_uuid(),
    restaurant_id uuid           NOT NULL,
    name          varchar(200)   NOT NULL,
    description   text,
    section       varchar(100),  -- 'Starters', 'Mains', ...
    price         numeric(10, 2) NOT NULL,
    currency      char(3)        NOT NULL DEFAULT 'USD',
    dietary_tags  text[]         NOT NULL DEFAULT '{}',
    is_available  boolean        NOT NULL DEFAULT true,
    position      integer        NOT NULL DEFAULT 0,
    created_at    timestamptz    NOT NULL DEFAULT now(),
    updated_at    timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT menu_items_pkey PRIMARY KEY (item_id),
    CONSTRAINT menu_items_restaurant_id_fkey FOREIGN KEY (restaurant_id)
        REFERENCES restaurants (restaurant_id) ON DELETE CASCADE,
    CONSTRAINT menu_items_price_check CHECK (price >= 0)
);

CREATE INDEX idx_menu_items_restaurant ON menu_items (restaurant_id);

CREATE TABLE categories (
    category_id uuid          NOT NULL DEFAULT gen_random_uuid(),
    kind        varchar(32)   NOT NULL,
    name        varchar(100)  NOT NULL,
    slug        varchar(100)  NOT NULL,
    description text,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT categories_pkey PRIMARY KEY (category_id),
    CONSTRAINT categories_kind_slug_key UNIQUE (kind, slug),
    CONSTRAINT categories_kind_check
        CHECK (kind IN ('cuisine', 'dietary', 'dish', 'ambience', 'feature'))
);

CREATE TABLE restaurant_categories (
    restaurant_id uuid        NOT NULL,
    category_id   uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT restaurant_categories_pkey PRIMARY KEY (restaurant_id, category_id),
    CONSTRAINT restaurant_categories_restaurant_id_fkey FOREIGN KEY (restaurant_id)
        REFERENCES restaurants (restaurant_id) ON DELETE CASCADE,
    CONSTRAINT restaurant_categories_category_id_fkey FOREIGN KEY (category_id)
        REFERENCES categories (category_id) ON DELETE CASCADE
);

CREATE INDEX idx_restaurant_categories_category ON restaurant_categories (category_id);

-- migrate:down
DROP TABLE restaurant_categories;
DROP TABLE categories;
DROP TABLE menu_items;
DROP TABLE restaurants;
DROP TABLE users;
DROP EXTENSION IF EXISTS pg_trgm;
