-- CDC (link bellyfed-cdc): the read-model items of menu items and reviews are keyed by
-- columns outside the primary key (restaurant_id, created_at). A delete event carries
-- only the primary key under the default replica identity, so these tables log the whole
-- old row; the sink then knows which item a delete (or a key-changing update) removes.

-- migrate:up
ALTER TABLE menu_items REPLICA IDENTITY FULL;
ALTER TABLE reviews REPLICA IDENTITY FULL;

-- migrate:down
ALTER TABLE reviews REPLICA IDENTITY DEFAULT;
ALTER TABLE menu_items REPLICA IDENTITY DEFAULT;
