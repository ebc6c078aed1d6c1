-- The web console's accounts: members' passwords, one-time sign-in links and sessions.
-- Every row belongs to a member and goes with it: removing a member (or its organization)
-- ends its password, its links and its sessions.

-- One password per member (an Argon2id PHC string; never the password).
CREATE TABLE member_passwords (
    org_id         TEXT NOT NULL,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    updated_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, email),
    FOREIGN KEY (org_id, email) REFERENCES members(org_id, email) ON DELETE CASCADE
);

-- One-time links that set a password: an invite (activates the member) or a reset. Kept by
-- a keyed hash of the token, never the token; taking a link deletes it.
CREATE TABLE sign_in_links (
    token_hash  TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    email       TEXT NOT NULL,
    purpose     TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    FOREIGN KEY (org_id, email) REFERENCES members(org_id, email) ON DELETE CASCADE
);
CREATE INDEX sign_in_links_member ON sign_in_links(org_id, email);

-- Signed-in browsers, kept by a keyed hash of the session id (the cookie's value), so
-- every replica knows them and signing out ends them everywhere.
CREATE TABLE console_sessions (
    id_hash       TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    email         TEXT NOT NULL,
    -- The token every state-changing form of this session carries.
    csrf_token    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    FOREIGN KEY (org_id, email) REFERENCES members(org_id, email) ON DELETE CASCADE
);
CREATE INDEX console_sessions_member ON console_sessions(org_id, email);
