-- The WebSocket hub's cross-instance state (core, src/ws). Events themselves travel by
-- NOTIFY reelhub_ws; these tables hold only what NOTIFY cannot carry.

-- Envelopes too large for a NOTIFY payload (8000 bytes): the notification carries the id instead.
-- Rows are read within milliseconds and deleted after 5 minutes by any instance's heartbeat.
CREATE TABLE ws_outbox (
    id         bigserial PRIMARY KEY,
    payload    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ws_outbox_created_idx ON ws_outbox (created_at);

-- Running hub instances. An instance refreshes heartbeat_at every ws_heartbeat_seconds; one
-- silent for three heartbeats (a crash, a lost network) is deleted by the others, and with it
-- its presence rows, so Hub::is_online never trusts a dead instance.
CREATE TABLE ws_instances (
    id           text PRIMARY KEY,
    heartbeat_at timestamptz NOT NULL
);

-- Which users have at least one authenticated WebSocket on which instance.
CREATE TABLE ws_presence (
    instance_id text NOT NULL REFERENCES ws_instances(id) ON DELETE CASCADE,
    user_id     bigint NOT NULL,
    PRIMARY KEY (instance_id, user_id)
);
CREATE INDEX ws_presence_user_idx ON ws_presence (user_id);
