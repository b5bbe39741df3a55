-- Uploaded videos, their transcode jobs, likes, comments and views (videos module).

CREATE TABLE videos (
  id               uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id         bigint           NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  title            text             NOT NULL,
  description      text             NOT NULL DEFAULT '',
  status           text             NOT NULL DEFAULT 'processing' CHECK (status IN ('processing', 'ready', 'failed')),
  progress_percent integer          NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
  failure_reason   text,
  -- From the upload probe, then from the transcode.
  duration_seconds double precision,
  width            integer,
  height           integer,
  variants         jsonb            NOT NULL DEFAULT '[]',  -- rung names, lowest first
  -- The transcode job lives on the row: a worker claims it (FOR UPDATE SKIP LOCKED) by taking
  -- the lease and counting an attempt, renews the lease while it works, and clears it when done.
  -- A lease that runs out means the worker's process died: the next claim resumes the job.
  attempts         integer          NOT NULL DEFAULT 0,
  lease_owner      text,
  lease_until      timestamptz,
  -- Counters kept in the same transaction as the rows they count.
  likes_count      bigint           NOT NULL DEFAULT 0 CHECK (likes_count >= 0),
  comments_count   bigint           NOT NULL DEFAULT 0 CHECK (comments_count >= 0),
  views_count      bigint           NOT NULL DEFAULT 0 CHECK (views_count >= 0),
  created_at       timestamptz      NOT NULL DEFAULT now(),
  ready_at         timestamptz
);
-- The feed (ready videos, newest first, keyset paging) and the job queue.
CREATE INDEX videos_feed_idx ON videos (created_at DESC, id DESC) WHERE status = 'ready';
CREATE INDEX videos_jobs_idx ON videos (created_at) WHERE status = 'processing';
CREATE INDEX videos_owner_idx ON videos (owner_id);

CREATE TABLE video_likes (
  video_id   uuid        NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (video_id, user_id)
);

CREATE TABLE video_comments (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  video_id   uuid        NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  user_id    bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  body       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX video_comments_page_idx ON video_comments (video_id, created_at DESC, id DESC);

-- One counted view per viewer (a user, or an IP without a token) per video per hour.
CREATE TABLE video_views (
  video_id        uuid        NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
  viewer          text        NOT NULL,  -- 'u:<user id>' or 'ip:<address>'
  last_counted_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (video_id, viewer)
);
