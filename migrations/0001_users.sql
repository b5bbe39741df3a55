-- Accounts, who blocks whom, and channel subscriptions (users module).

-- Trigram indexes make the substring search of GET /users/search (ILIKE '%q%') indexable.
-- pg_trgm ships with PostgreSQL and is a trusted extension: a database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE users (
  id                bigserial   PRIMARY KEY,
  username          text        NOT NULL CHECK (length(username) BETWEEN 3 AND 32),
  email             text        NOT NULL,
  password_hash     text        NOT NULL,
  role              text        NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'streamer', 'viewer')),
  is_active         boolean     NOT NULL DEFAULT true,
  display_name      text,
  bio               text,
  avatar_version    integer     NOT NULL DEFAULT 0,  -- 0 = no avatar; bumped by every upload
  avatar_updated_at timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- Usernames and e-mails are unique regardless of case; the repo maps these names to 409s.
CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_username_trgm_idx ON users USING gin (username gin_trgm_ops);
CREATE INDEX users_display_name_trgm_idx ON users USING gin (display_name gin_trgm_ops);

CREATE TABLE user_blocks (
  blocker_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  blocked_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blocker_id, blocked_id),
  CHECK (blocker_id <> blocked_id)
);
-- "Who blocked me" (search hides them); the primary key serves "whom did I block".
CREATE INDEX user_blocks_blocked_idx ON user_blocks (blocked_id);

CREATE TABLE subscriptions (
  subscriber_id bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  channel_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subscriber_id, channel_id),
  CHECK (subscriber_id <> channel_id)
);
-- Subscriber counts and the newest-first subscriber list of a channel.
CREATE INDEX subscriptions_channel_idx ON subscriptions (channel_id, created_at DESC);
