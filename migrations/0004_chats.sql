-- Direct and group chats, their members with read markers, and messages (chats module).

CREATE TABLE chats (
  id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  type            text        NOT NULL CHECK (type IN ('direct', 'group')),
  title           text,
  created_by      bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- '<low user id>:<high user id>' for direct chats: the unique index keeps one chat per pair,
  -- even when both users open it at the same moment.
  direct_key      text        UNIQUE,
  -- Messages are numbered per chat. Taking the next number locks this row until commit, so
  -- numbers become visible in order: a reader never sees 7 and later finds a 6 appear, which
  -- keeps history pages and `after=` recovery exact under concurrent sends.
  last_seq        bigint      NOT NULL DEFAULT 0,
  last_message_at timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  CHECK ((type = 'direct') = (direct_key IS NOT NULL))
);

CREATE TABLE chat_members (
  chat_id       uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  user_id       bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  last_read_seq bigint      NOT NULL DEFAULT 0,  -- read marker: every message up to it is read
  joined_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chat_id, user_id)
);
-- "My chats" (GET /chats); the primary key serves membership checks.
CREATE INDEX chat_members_user_idx ON chat_members (user_id);

CREATE TABLE chat_messages (
  id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  chat_id       uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  seq           bigint      NOT NULL,
  sender_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  client_msg_id text,  -- the sender's idempotency key; NULL when the client sent none
  body          text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chat_id, seq),  -- also the index of history pages and unread counts
  UNIQUE (chat_id, sender_id, client_msg_id)
);
