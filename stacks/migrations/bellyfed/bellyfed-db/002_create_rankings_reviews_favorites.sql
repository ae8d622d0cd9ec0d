-- What users say about restaurants: personal rankings, reviews, favorites.

-- migrate:up
-- A user's personal ranking list. Composite key (user_id, ranking_id): every read is
-- "this user's rankings", and the key leads with the user. updated_at records when a
-- preference changed; the CDC stream keeps the full history downstream.
CREATE TABLE rankings (
    user_id       uuid        NOT NULL,
    ranking_id    uuid        NOT NULL DEFAULT gen_random_uuid(),
    restaurant_id uuid        NOT NULL,
    category_id   uuid,        -- optional scope: "best ramen" rather than overall
    rank          integer     NOT NULL,
    notes         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT rankings_pkey PRIMARY KEY (user_id, ranking_id),
    CONSTRAINT rankings_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT rankings_restaurant_id_fkey FOREIGN KEY (restaurant_id)
        REFERENCES restaurants (restaurant_id) ON DELETE CASCADE,
    CONSTRAINT rankings_category_id_fkey FOREIGN KEY (category_id)
        REFERENCES categories (category_id) ON DELETE SET NULL,
    CONSTRAINT rankings_rank_check CHECK (rank > 0)
);

CREATE INDEX idx_rankings_restaurant ON rankings (restaurant_id);
CREATE INDEX idx_rankings_category ON rankings (category_id) WHERE category_id IS NOT NULL;

CREATE TABLE reviews (
    review_id     uuid         NOT NULL DEFAULT gen_random_uuid(),
    restaurant_id uuid         NOT NULL,
    user_id       uuid         NOT NULL,
    rating        smallint     NOT NULL,
    title         varchar(200),
    body          text,
    visited_on    date,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    updated_at    timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT reviews_pkey PRIMARY KEY (review_id),
    CONSTRAINT reviews_restaurant_id_fkey FOREIGN KEY (restaurant_id)
        REFERENCES restaurants (restaurant_id) ON DELETE CASCADE,
    CONSTRAINT reviews_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT reviews_rating_check CHECK (rating BETWEEN 1 AND 5)
);

-- GET /restaurants/{id}/reviews: latest 50, newest first
CREATE INDEX idx_reviews_restaurant_created ON reviews (restaurant_id, created_at DESC);
CREATE INDEX idx_reviews_user ON reviews (user_id);

CREATE TABLE favorites (
    user_id       uuid        NOT NULL,
    restaurant_id uuid        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT favorites_pkey PRIMARY KEY (user_id, restaurant_id),
    CONSTRAINT favorites_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (user_id) ON DELETE CASCADE,
    CONSTRAINT favorites_restaurant_id_fkey FOREIGN KEY (restaurant_id)
        REFERENCES restaurants (restaurant_id) ON DELETE CASCADE
);

CREATE INDEX idx_favorites_restaurant ON favorites (restaurant_id);

-- migrate:down
DROP TABLE favorites;
DROP TABLE reviews;
DROP TABLE rankings;
