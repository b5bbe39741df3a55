-- Watch-together rooms (rooms module): a room plays one ready uploaded video or one ready
-- recording; its host and participants; invitations to private rooms; users kicked out of a room.
-- A closed room (its host left, or it was deleted) is deleted with everything below it.
-- No foreign key to videos or recordings: those tables are other modules'.

CREATE TABLE rooms (
  id                  uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
  host_id             bigint           NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title               text             NOT NULL,
  is_private          boolean          NOT NULL DEFAULT false,
  -- What is playing: videos.id for 'video', recordings.stream_id (a recording's public id) for
  -- 'recording'; its title as it was when the room was made, for the room list.
  media_kind          text             NOT NULL CHECK (media_kind IN ('video', 'recording')),
  media_id            uuid             NOT NULL,
  media_title         text             NOT NULL,
  -- Server-authoritative playback state: `position` seconds at `updated_at` (server clock), moving
  -- at `rate` while 'playing'. The realtime slice writes these on play/pause/seek/rate; a reader
  -- extrapolates position + rate * (now - updated_at) while playing.
  playback_state      text             NOT NULL DEFAULT 'paused' CHECK (playback_state IN ('playing', 'paused')),
  playback_position   double precision NOT NULL DEFAULT 0 CHECK (playback_position >= 0),
  playback_rate       double precision NOT NULL DEFAULT 1 CHECK (playback_rate > 0 AND playback_rate <= 4),
  playback_updated_at timestamptz      NOT NULL DEFAULT now(),
  -- Seconds a member waits between two room chat messages (0 = off); set by the host.
  slow_mode_seconds   integer          NOT NULL DEFAULT 0 CHECK (slow_mode_seconds BETWEEN 0 AND 3600),
  created_at          timestamptz      NOT NULL DEFAULT now()
);
-- The room list: newest first, keyset paging; and its filter by what is playing.
CREATE INDEX rooms_list_idx ON rooms (created_at DESC, id DESC);
CREATE INDEX rooms_media_idx ON rooms (media_id);

-- `seat` is decided when the user joins and kept: the cap counts the seats that are not
-- 'subscriber' (the host's one included), so a join needs no other module's data under the lock.
CREATE TABLE room_participants (
  room_id   uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id   bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  seat      text        NOT NULL CHECK (seat IN ('host', 'subscriber', 'ordinary')),
  joined_at timestamptz NOT NULL DEFAULT now(),
  -- The host lets this participant control playback too (the host always does).
  can_control boolean NOT NULL DEFAULT false,
  -- The participant's last room chat message: slow mode counts from it.
  last_message_at timestamptz,
  PRIMARY KEY (room_id, user_id)
);
-- "Rooms I am in" (private rooms in the list).
CREATE INDEX room_participants_user_idx ON room_participants (user_id);

-- An invitation lets its user see and join a private room (it gives no seat beyond the cap).
CREATE TABLE room_invites (
  room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  invited_by bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_invites_user_idx ON room_invites (user_id);

-- Users the host kicked: they cannot join that room again.
CREATE TABLE room_kicks (
  room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (room_id, user_id)
);

-- Room chat. A message outlives its author's seat (the history stays readable) but not the room.
CREATE TABLE room_messages (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  room_id    uuid        NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- The history, newest first, keyset paging.
CREATE INDEX room_messages_history_idx ON room_messages (room_id, created_at DESC, id DESC);
