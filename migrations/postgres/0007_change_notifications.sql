-- Every replica caches reads (cluster documents, lists, console rows) and clients'
-- revocation state; these triggers tell all of them what changed. pg_notify in the writing
-- transaction is delivered only if it commits, and identical payloads of one transaction
-- are delivered once.

CREATE FUNCTION consoled_org_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('consoled_changes', 'org:' || OLD.org_id);
    ELSE
        PERFORM pg_notify('consoled_changes', 'org:' || NEW.org_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION consoled_client_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('consoled_changes', 'client:' || OLD.client_id);
    ELSE
        PERFORM pg_notify('consoled_changes', 'client:' || NEW.client_id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION consoled_keys_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('consoled_changes', 'keys:');
    RETURN NULL;
END $$;

-- What a cluster's document and the lists are made of.
CREATE TRIGGER clusters_changed AFTER INSERT OR UPDATE OR DELETE ON clusters
    FOR EACH ROW EXECUTE FUNCTION consoled_org_changed();
-- Only the reported endpoints are shown; leases and probe times change every few seconds.
CREATE TRIGGER driver_state_changed AFTER INSERT OR DELETE OR UPDATE OF report ON driver_state
    FOR EACH ROW EXECUTE FUNCTION consoled_org_changed();

-- Revocation: rotations and deletions of Console API clients.
CREATE TRIGGER api_clients_changed AFTER INSERT OR UPDATE OR DELETE ON api_clients
    FOR EACH ROW EXECUTE FUNCTION consoled_client_changed();

CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION consoled_keys_changed();
