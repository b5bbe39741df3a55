-- Login sessions and their rotating refresh tokens (auth module).
--
-- A session is one refresh-token family: login starts it, every refresh replaces its current token,
-- logout or reuse of a replaced token revokes it. Access tokens carry the session id as `sid`, so
-- revoking a session also stops its access tokens from passing GET /auth/validate.
CREATE TABLE auth_sessions (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id    bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id);

-- Refresh tokens are bearer secrets: only their SHA-256 is stored.
CREATE TABLE refresh_tokens (
    id         bigserial PRIMARY KEY,
    token_hash text NOT NULL UNIQUE,
    session_id uuid NOT NULL REFERENCES auth_sessions(id) ON DELETE CASCADE,
    replaces   bigint REFERENCES refresh_tokens(id) ON DELETE SET NULL,  -- the token this one rotated out
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz  -- set when rotated; presenting it again is reuse
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);
CREATE INDEX refresh_tokens_replaces_idx ON refresh_tokens (replaces);  -- keeps the self-FK cheap on delete
