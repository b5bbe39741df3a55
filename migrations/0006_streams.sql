-- Live streams (seed 002). Only the streams module reads or writes this table.
CREATE TABLE streams (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name text NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  status text NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'waiting', 'active', 'stopped')),
  -- The SRT passphrase: stored as-is because libsrt needs it at every handshake; shown to the owner only.
  passphrase text NOT NULL,
  start_time timestamptz,        -- media first arrived
  stopped_at timestamptz,
  status_reason text,            -- why the last change happened (publisher stalled, idle timeout, ...)
  -- Set once the recording was handed to the recordings module, so a crash between the stop and
  -- that hand-over is repaired at the next start-up.
  recording_requested boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX streams_by_owner ON streams (user_id, created_at DESC);
CREATE INDEX streams_by_status ON streams (status, created_at DESC);
