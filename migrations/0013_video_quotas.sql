-- Upload quotas and a fair transcode queue (issue 9, item 6).

-- Bytes a video holds on disk, counted against its owner's upload_quota_bytes: the source's size
-- from the upload until the transcode ends, then the renditions' (the source is deleted), 0 once
-- failed (its files are removed). Videos uploaded before this migration count as 0.
ALTER TABLE videos ADD COLUMN storage_bytes bigint NOT NULL DEFAULT 0 CHECK (storage_bytes >= 0);

-- When a worker last claimed the video's job. An owner's latest claim decides the owner's place
-- in each round of the round-robin queue: whoever was served longest ago goes first.
ALTER TABLE videos ADD COLUMN claimed_at timestamptz;
CREATE INDEX videos_owner_claims_idx ON videos (owner_id, claimed_at);
