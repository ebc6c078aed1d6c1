-- The id of the request that caused an activity record (X-Request-Id), when one did.
ALTER TABLE audit_events ADD COLUMN request_id TEXT;
