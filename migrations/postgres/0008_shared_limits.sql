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

-- Which client ids have wrong secrets on record at a source: every replica keeps the set
-- from these notifications, so that where no rate limit is counted, a token request asks
-- the database about the lockout only for a key with failures. `+` a streak began, `-` it
-- ended (a right secret, the sweep).
CREATE FUNCTION consoled_failures_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('consoled_changes', 'lock:-' || encode(OLD.key, 'hex'));
    ELSE
        PERFORM pg_notify('consoled_changes', 'lock:+' || encode(NEW.key, 'hex'));
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER failed_secrets_changed AFTER INSERT OR DELETE ON failed_secrets
    FOR EACH ROW EXECUTE FUNCTION consoled_failures_changed();
