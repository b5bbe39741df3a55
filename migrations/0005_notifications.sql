-- Stored notifications, per-type opt-outs and device push tokens (notifications module).

CREATE TABLE notifications (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Internal order for keyset pages; never exposed (the public id is the uuid).
  n          bigserial   NOT NULL UNIQUE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type       text        NOT NULL,
  data       jsonb       NOT NULL DEFAULT '{}',
  read_at    timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Newest-first pages of one user's notifications.
CREATE INDEX notifications_user_idx ON notifications (user_id, n DESC);
-- Unread counts and read-all touch only the unread ones.
CREATE INDEX notifications_unread_idx ON notifications (user_id) WHERE read_at IS NULL;

-- Only the types a user turned off or back on are stored; every other type is on.
CREATE TABLE notification_settings (
  user_id bigint  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type    text    NOT NULL,
  enabled boolean NOT NULL,
  PRIMARY KEY (user_id, type)
);

-- One row per device: a token registered again (by its user or, after an account switch on the
-- device, by another user) updates the row instead of adding one.
CREATE TABLE push_tokens (
  token      text        PRIMARY KEY,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  platform   text        NOT NULL CHECK (platform IN ('ios', 'android', 'web')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_tokens_user_idx ON push_tokens (user_id, updated_at DESC);
