-- Recordings (VOD) of stopped live streams (recordings module). A row in status 'processing' is
-- also its own job: workers claim it with FOR UPDATE SKIP LOCKED and hold a lease, so a restart
-- or a second instance resumes it. No foreign key to streams: that table is another module's.

CREATE TABLE recordings (
  id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  stream_id        uuid        NOT NULL UNIQUE,  -- one recording per stream: enqueue is idempotent
  user_id          bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  username         text        NOT NULL,         -- the owner's name when the stream was recorded
  title            text        NOT NULL,
  status           text        NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
  failure_reason   text,                         -- why the last attempt failed
  duration_seconds double precision,
  file_size_bytes  bigint,
  has_thumbnail    boolean     NOT NULL DEFAULT false,
  -- Claims so far; counted when claimed, so a job whose worker died twice fails too.
  attempts         integer     NOT NULL DEFAULT 0,
  claimed_at       timestamptz,
  lease_expires_at timestamptz,                  -- NULL = free to claim; past = its worker is gone
  ready_at         timestamptz,
  live_removed_at  timestamptz,                  -- when the live segments were deleted
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
-- Workers look for claimable jobs; only unfinished rows are indexed.
CREATE INDEX recordings_jobs_idx ON recordings (created_at) WHERE status = 'processing';
-- Lists: newest first, optionally per user.
CREATE INDEX recordings_user_idx ON recordings (user_id, created_at DESC);
CREATE INDEX recordings_created_idx ON recordings (created_at DESC);
-- The retention sweep: ready recordings whose live segments are still on disk.
CREATE INDEX recordings_live_idx ON recordings (ready_at) WHERE status = 'ready' AND live_removed_at IS NULL;
