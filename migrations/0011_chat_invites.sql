-- Group invitations (chats module): nobody becomes a member of a group without accepting. A row
-- is a pending invitation; accepting turns it into a chat_members row, declining deletes it.

CREATE TABLE chat_invites (
  chat_id    uuid        NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  invited_by bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chat_id, user_id)
);
-- "My invitations" (GET /chats/invites), newest first.
CREATE INDEX chat_invites_user_idx ON chat_invites (user_id, created_at DESC);
