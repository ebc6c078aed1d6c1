-- The identity provider (its issuer) a console session was signed in with; NULL for a
-- password. Signing out of such a session also goes to the provider's logout.
ALTER TABLE console_sessions ADD COLUMN identity_provider TEXT;
