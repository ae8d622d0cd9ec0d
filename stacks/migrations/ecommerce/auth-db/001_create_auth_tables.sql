-- auth_db, owned by the auth service: credentials, RBAC, tokens. Other services know a
-- user only by users.id (user.created event); nothing outside references these tables.

-- migrate:up
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE users (
    id                    uuid          NOT NULL DEFAULT gen_random_uuid(),
    email                 citext        NOT NULL,
    password_hash         varchar(255)  NOT NULL,  -- bcrypt
    is_active             boolean       NOT NULL DEFAULT true,
    email_verified_at     timestamptz,
    mfa_enabled           boolean       NOT NULL DEFAULT false,
    mfa_secret_encrypted  bytea,
    failed_login_attempts integer       NOT NULL DEFAULT 0,
    locked_until          timestamptz,
    last_login_at         timestamptz,
    password_changed_at   timestamptz   NOT NULL DEFAULT now(),
    created_at            timestamptz   NOT NULL DEFAULT now(),
    updated_at            timestamptz   NOT NULL DEFAULT now(),
    deleted_at            timestamptz,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_failed_login_attempts_check CHECK (failed_login_attempts >= 0)
);

-- login looks up active accounts by email only
CREATE INDEX idx_users_active ON users (email) WHERE is_active = true;

CREATE TABLE roles (
    id          uuid         NOT NULL DEFAULT gen_random_uuid(),
    name        varchar(64)  NOT NULL,
    description text,
    permissions jsonb        NOT NULL DEFAULT '[]'::jsonb,
    is_system   boolean      NOT NULL DEFAULT false,
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT roles_pkey PRIMARY KEY (id),
    CONSTRAINT roles_name_key UNIQUE (name)
);

CREATE TABLE user_roles (
    user_id    uuid        NOT NULL,
    role_id    uuid        NOT NULL,
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    CONSTRAINT user_roles_pkey PRIMARY KEY (user_id, role_id),
    CONSTRAINT user_roles_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT user_roles_role_id_fkey FOREIGN KEY (role_id)
        REFERENCES roles (id) ON DELETE CASCADE,
    CONSTRAINT user_roles_granted_by_fkey FOREIGN KEY (granted_by)
        REFERENCES users (id) ON DELETE SET NULL
);

CREATE INDEX idx_user_roles_role ON user_roles (role_id);

-- Only hashes of tokens are stored; a rotated token points at its successor so reuse of
-- an old one can revoke the whole family.
CREATE TABLE refresh_tokens (
    id          uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id     uuid          NOT NULL,
    token_hash  varchar(128)  NOT NULL,
    family_id   uuid          NOT NULL,
    replaced_by uuid,
    user_agent  text,
    ip_address  inet,
    expires_at  timestamptz   NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT refresh_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT refresh_tokens_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT refresh_tokens_replaced_by_fkey FOREIGN KEY (replaced_by)
        REFERENCES refresh_tokens (id) ON DELETE SET NULL
);

CREATE UNIQUE INDEX idx_refresh_tokens_token_hash ON refresh_tokens (token_hash);
CREATE INDEX idx_refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX idx_refresh_tokens_expires ON refresh_tokens (expires_at);

CREATE TABLE password_reset_tokens (
    id         uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid          NOT NULL,
    token_hash varchar(128)  NOT NULL,
    expires_at timestamptz   NOT NULL,
    used_at    timestamptz,
    ip_address inet,
    created_at timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT password_reset_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT password_reset_tokens_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX idx_password_reset_tokens_token_hash ON password_reset_tokens (token_hash);
CREATE INDEX idx_password_reset_tokens_user ON password_reset_tokens (user_id);

CREATE TABLE email_verification_tokens (
    id         uuid          NOT NULL DEFAULT gen_random_uuid(),
    user_id    uuid          NOT NULL,
    email      citext        NOT NULL,  -- the address being verified (may be a change of email)
    token_hash varchar(128)  NOT NULL,
    expires_at timestamptz   NOT NULL,
    verified_at timestamptz,
    created_at timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT email_verification_tokens_pkey PRIMARY KEY (id),
    CONSTRAINT email_verification_tokens_user_id_fkey FOREIGN KEY (user_id)
        REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX idx_email_verification_tokens_token_hash
    ON email_verification_tokens (token_hash);
CREATE INDEX idx_email_verification_tokens_user ON email_verification_tokens (user_id);

-- Fixed-window counters keyed by what is limited ('login:ip:203.0.113.7', 'login:user:<id>').
CREATE TABLE rate_limits (
    bucket_key     varchar(255) NOT NULL,
    window_start   timestamptz  NOT NULL,
    window_seconds integer      NOT NULL,
    request_count  integer      NOT NULL DEFAULT 0,
    blocked_until  timestamptz,
    updated_at     timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT rate_limits_pkey PRIMARY KEY (bucket_key, window_start),
    CONSTRAINT rate_limits_window_seconds_check CHECK (window_seconds > 0),
    CONSTRAINT rate_limits_request_count_check CHECK (request_count >= 0)
);

-- the cleanup job deletes expired windows
CREATE INDEX idx_rate_limits_window_start ON rate_limits (window_start);

-- migrate:down
DROP TABLE rate_limits;
DROP TABLE email_verification_tokens;
DROP TABLE password_reset_tokens;
DROP TABLE refresh_tokens;
DROP TABLE user_roles;
DROP TABLE roles;
DROP TABLE users;
DROP EXTENSION IF EXISTS citext;
