-- shipping_db, owned by the shipping service: carriers, zones and methods, rate tiers,
-- shipments (orders.id by ID) and their tracking history.

-- migrate:up
-- Carrier API credentials live in Secrets Manager; only the secret's ARN is stored.
CREATE TABLE carriers (
    id                     uuid           NOT NULL DEFAULT gen_random_uuid(),
    code                   varchar(32)    NOT NULL,  -- 'ups', 'fedex', 'dhl', ...
    name                   varchar(100)   NOT NULL,
    tracking_url_template  text,                     -- 'https://.../track?n={tracking_number}'
    api_base_url           text,
    credentials_secret_arn varchar(2048),
    is_active              boolean        NOT NULL DEFAULT true,
    created_at             timestamptz    NOT NULL DEFAULT now(),
    updated_at             timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT carriers_pkey PRIMARY KEY (id),
    CONSTRAINT carriers_code_key UNIQUE (code)
);

CREATE TABLE shipping_zones (
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    code          varchar(32)   NOT NULL,
    name          varchar(100)  NOT NULL,
    country_codes char(2)[]     NOT NULL,
    region_codes  text[]        NOT NULL DEFAULT '{}',  -- empty: the whole countries
    is_active     boolean       NOT NULL DEFAULT true,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT shipping_zones_pkey PRIMARY KEY (id),
    CONSTRAINT shipping_zones_code_key UNIQUE (code),
    CONSTRAINT shipping_zones_country_codes_check CHECK (cardinality(country_codes) > 0)
);

-- which zone ships to country X: WHERE country_codes @> ARRAY['DE']
CREATE INDEX idx_shipping_zones_country_codes ON shipping_zones USING gin (country_codes);

CREATE TABLE shipping_methods (
    id                uuid          NOT NULL DEFAULT gen_random_uuid(),
    carrier_id        uuid          NOT NULL,
    code              varchar(64)   NOT NULL,
    name              varchar(100)  NOT NULL,
    service_level     varchar(16)   NOT NULL,
    min_delivery_days integer,
    max_delivery_days integer,
    is_active         boolean       NOT NULL DEFAULT true,
    created_at        timestamptz   NOT NULL DEFAULT now(),
    updated_at        timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT shipping_methods_pkey PRIMARY KEY (id),
    CONSTRAINT shipping_methods_carrier_id_fkey FOREIGN KEY (carrier_id)
        REFERENCES carriers (id) ON DELETE RESTRICT,
    CONSTRAINT shipping_methods_code_key UNIQUE (code),
    CONSTRAINT shipping_methods_service_level_check
        CHECK (service_level IN ('economy', 'standard', 'express', 'overnight', 'pickup')),
    CONSTRAINT shipping_methods_delivery_days_check CHECK (
        min_delivery_days IS NULL OR max_delivery_days IS NULL
        OR (min_delivery_days >= 0 AND max_delivery_days >= min_delivery_days))
);

CREATE INDEX idx_shipping_methods_carrier ON shipping_methods (carrier_id);

-- Rate tiers: for a zone and method, the price of a parcel by weight / order value band.
CREATE TABLE shipping_rates (
    id                      uuid           NOT NULL DEFAULT gen_random_uuid(),
    zone_id                 uuid           NOT NULL,
    method_id               uuid           NOT NULL,
    min_weight_grams        integer        NOT NULL DEFAULT 0,
    max_weight_grams        integer,        -- NULL: no upper bound
    min_order_amount        numeric(12, 2) NOT NULL DEFAULT 0,
    max_order_amount        numeric(12, 2),
    price                   numeric(12, 2) NOT NULL,
    currency                char(3)        NOT NULL DEFAULT 'USD',
    free_shipping_threshold numeric(12, 2),
    effective_from          timestamptz    NOT NULL DEFAULT now(),
    effective_to            timestamptz,
    created_at              timestamptz    NOT NULL DEFAULT now(),
    updated_at              timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT shipping_rates_pkey PRIMARY KEY (id),
    CONSTRAINT shipping_rates_zone_id_fkey FOREIGN KEY (zone_id)
        REFERENCES shipping_zones (id) ON DELETE CASCADE,
    CONSTRAINT shipping_rates_method_id_fkey FOREIGN KEY (method_id)
        REFERENCES shipping_methods (id) ON DELETE CASCADE,
    CONSTRAINT shipping_rates_price_check CHECK (price >= 0),
    CONSTRAINT shipping_rates_weight_check CHECK (
        min_weight_grams >= 0 AND (max_weight_grams IS NULL OR max_weight_grams > min_weight_grams)),
    CONSTRAINT shipping_rates_amount_check CHECK (
        min_order_amount >= 0 AND (max_order_amount IS NULL OR max_order_amount > min_order_amount)),
    CONSTRAINT shipping_rates_effective_check
        CHECK (effective_to IS NULL OR effective_to > effective_from)
);

CREATE INDEX idx_shipping_rates_zone_method ON shipping_rates (zone_id, method_id);
CREATE INDEX idx_shipping_rates_method ON shipping_rates (method_id);

CREATE TABLE shipments (
    id                    uuid           NOT NULL DEFAULT gen_random_uuid(),
    order_id              uuid           NOT NULL,  -- references order: orders.id by ID
    carrier_id            uuid           NOT NULL,
    method_id             uuid           NOT NULL,
    tracking_number       varchar(128),
    status                varchar(24)    NOT NULL DEFAULT 'pending',
    shipping_cost         numeric(12, 2) NOT NULL DEFAULT 0,
    currency              char(3)        NOT NULL DEFAULT 'USD',
    weight_grams          integer,
    ship_to               jsonb          NOT NULL,  -- address snapshot from the order
    label_url             text,
    shipped_at            timestamptz,
    estimated_delivery_at timestamptz,
    delivered_at          timestamptz,
    created_at            timestamptz    NOT NULL DEFAULT now(),
    updated_at            timestamptz    NOT NULL DEFAULT now(),
    CONSTRAINT shipments_pkey PRIMARY KEY (id),
    CONSTRAINT shipments_carrier_id_fkey FOREIGN KEY (carrier_id)
        REFERENCES carriers (id) ON DELETE RESTRICT,
    CONSTRAINT shipments_method_id_fkey FOREIGN KEY (method_id)
        REFERENCES shipping_methods (id) ON DELETE RESTRICT,
    CONSTRAINT shipments_carrier_id_tracking_number_key UNIQUE (carrier_id, tracking_number),
    CONSTRAINT shipments_status_check CHECK (status IN (
        'pending', 'label_created', 'in_transit', 'out_for_delivery', 'delivered',
        'exception', 'returned', 'cancelled')),
    CONSTRAINT shipments_shipping_cost_check CHECK (shipping_cost >= 0)
);

CREATE INDEX idx_shipments_order ON shipments (order_id);
CREATE INDEX idx_shipments_method ON shipments (method_id);
CREATE INDEX idx_shipments_status_updated ON shipments (status, updated_at)
    WHERE status NOT IN ('delivered', 'cancelled', 'returned');

CREATE TABLE shipment_tracking (
    id                 uuid          NOT NULL DEFAULT gen_random_uuid(),
    shipment_id        uuid          NOT NULL,
    status             varchar(24)   NOT NULL,
    carrier_event_code varchar(64),
    description        text,
    location           varchar(255),
    occurred_at        timestamptz   NOT NULL,
    recorded_at        timestamptz   NOT NULL DEFAULT now(),
    raw                jsonb,
    CONSTRAINT shipment_tracking_pkey PRIMARY KEY (id),
    CONSTRAINT shipment_tracking_shipment_id_fkey FOREIGN KEY (shipment_id)
        REFERENCES shipments (id) ON DELETE CASCADE
);

CREATE INDEX idx_shipment_tracking_shipment_time ON shipment_tracking (shipment_id, occurred_at);

-- migrate:down
DROP TABLE shipment_tracking;
DROP TABLE shipments;
DROP TABLE shipping_rates;
DROP TABLE shipping_methods;
DROP TABLE shipping_zones;
DROP TABLE carriers;
