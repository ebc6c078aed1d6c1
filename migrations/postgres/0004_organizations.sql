-- Organization members and pending invites. Every organization has exactly one owner
-- member (is_owner), created with it; the owner's roles cannot be changed and it cannot be
-- removed. Emails are stored lower-cased, so (org_id, email) is the identity.

CREATE TABLE members (
    org_id          TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- Role names joined by commas, in vocabulary order.
    roles           TEXT NOT NULL,
    invite_pending  BOOLEAN NOT NULL,
    is_owner        BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, email)
);
CREATE UNIQUE INDEX members_one_owner ON members(org_id) WHERE is_owner;

-- Organizations created before members existed get the documented default owner.
INSERT INTO members (org_id, email, name, roles, invite_pending, is_owner, created_at)
SELECT id, 'owner@consoled.local', 'owner@consoled.local', 'owner', FALSE, TRUE, created_at
FROM organizations;
