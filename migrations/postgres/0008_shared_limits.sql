-- Rate-limit and lockout state that every replica counts in, so that a limit holds for
-- the installation rather than per process. Keys are bytes: a client id may hold any
-- character, NUL included. Times are microseconds since the epoch on the database's clock,
-- the one clock all replicas share.
--
-- UNLOGGED: counting a request writes no WAL, so it waits for no disk flush. PostgreSQL
-- empties these tables after a crash of its own (not after a replica's), which forgives
-- at most one period of counts and the locks then in force.
CREATE UNLOGGED TABLE rate_limits (
    key bytea PRIMARY KEY,
    -- When the key's bucket is full again (GCRA's theoretical arrival time).
    tat bigint NOT NULL
);

CREATE UNLOGGED TABLE failed_secrets (
    key bytea PRIMARY KEY,
    failures integer NOT NULL,
    last_failure bigint NOT NULL,
    locked_until bigint
);
