-- inventory service database (inventory), owned by the inventory service. Current state
-- lives here; every change is also appended to the DynamoDB event store for replay.

-- migrate:up
CREATE TABLE warehouses (
    id            uuid          NOT NULL DEFAULT gen_random_uuid(),
    code          varchar(32)   NOT NULL,
    name          varchar(200)  NOT NULL,
    address_line1 varchar(200),
    address_line2 varchar(200),
    city          varchar(100),
    region        varchar(100),
    postal_code   varchar(20),
    country_code  char(2)       NOT NULL,
    timezone      varchar(64)   NOT NULL DEFAULT 'UTC',
    is_active     boolean       NOT NULL DEFAULT true,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT warehouses_pkey PRIMARY KEY (id),
    CONSTRAINT warehouses_code_key UNIQUE (code)
);

-- One row per (sku, warehouse). Writers update with
--   UPDATE ... SET ..., version = version + 1 WHERE id = $1 AND version = $2
-- (optimistic locking); the CHECKs make overselling impossible even if they do not.
CREATE TABLE inventory (
    id                 uuid         NOT NULL DEFAULT gen_random_uuid(),
    sku                varchar(64)  NOT NULL,  -- product SKU of the catalog, by ID
    warehouse_id       uuid         NOT NULL,
    quantity_on_hand   integer      NOT NULL DEFAULT 0,
    quantity_allocated integer      NOT NULL DEFAULT 0,
    quantity_available integer      GENERATED ALWAYS AS (quantity_on_hand - quantity_allocated) STORED,
    reorder_level      integer      NOT NULL DEFAULT 0,
    version            bigint       NOT NULL DEFAULT 1,
    created_at         timestamptz  NOT NULL DEFAULT now(),
    updated_at         timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT inventory_pkey PRIMARY KEY (id),
    CONSTRAINT inventory_warehouse_id_fkey FOREIGN KEY (warehouse_id)
        REFERENCES warehouses (id) ON DELETE RESTRICT,
    CONSTRAINT inventory_quantity_on_hand_check CHECK (quantity_on_hand >= 0),
    CONSTRAINT inventory_quantity_allocated_check
        CHECK (quantity_allocated >= 0 AND quantity_allocated <= quantity_on_hand),
    CONSTRAINT inventory_reorder_level_check CHECK (reorder_level >= 0)
);

CREATE UNIQUE INDEX idx_inventory_sku_warehouse ON inventory (sku, warehouse_id);
CREATE INDEX idx_inventory_warehouse ON inventory (warehouse_id);

-- Stock held for an order until it ships, is released, or expires.
CREATE TABLE allocations (
    id           uuid         NOT NULL DEFAULT gen_random_uuid(),
    inventory_id uuid         NOT NULL,
    order_id     varchar(64)  NOT NULL,  -- references order service (outside this system): orders.id by ID
    quantity     integer      NOT NULL,
    status       varchar(16)  NOT NULL DEFAULT 'pending',
    expires_at   timestamptz,
    created_at   timestamptz  NOT NULL DEFAULT now(),
    updated_at   timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT allocations_pkey PRIMARY KEY (id),
    CONSTRAINT allocations_inventory_id_fkey FOREIGN KEY (inventory_id)
        REFERENCES inventory (id) ON DELETE RESTRICT,
    CONSTRAINT allocations_quantity_check CHECK (quantity > 0),
    CONSTRAINT allocations_status_check
        CHECK (status IN ('pending', 'confirmed', 'fulfilled', 'released', 'expired'))
);

-- the allocations of an order; unique, so an order holds one allocation per inventory row
CREATE UNIQUE INDEX idx_allocations_order ON allocations (order_id, inventory_id);
CREATE INDEX idx_allocations_inventory ON allocations (inventory_id);
-- the expiry sweeper reads only live holds
CREATE INDEX idx_allocations_expires_pending ON allocations (expires_at)
    WHERE status = 'pending';

-- migrate:down
DROP TABLE allocations;
DROP TABLE inventory;
DROP TABLE warehouses;
