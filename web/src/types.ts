// The API's shapes this client reads (docs/openapi.yaml, components/schemas).

export interface Video {
  id: string;
  user_id: number;
  username: string;
  title: string;
  description: string;
  status: "processing" | "ready" | "failed";
  progress_percent: number;
  failure_reason?: string;
  duration_seconds?: number;
  variants: string[];
  likes_count: number;
  comments_count: number;
  views_count: number;
  liked?: boolean;
  hls_url: string | null;
  thumbnail_url: string | null;
  created_at: string;
}

export interface Comment {
  id: string;
  user_id: number;
  username: string;
  text: string;
  created_at: string;
}

export interface Stream {
  stream_id: string;
  name: string;
  title: string;
  description: string;
  status: "created" | "waiting" | "active" | "stopped";
  status_reason?: string;
  user_id: number;
  username: string;
  viewer_count: number;
  hls_url: string;
  hls_ll_url: string;  // the LL-HLS playlist (fMP4 parts, blocking reloads)
  srt_url?: string;
  created_at: string;
}

export interface StreamStatus {
  status: Stream["status"];
  uptime_seconds: number;
  viewer_count: number;
  hls_files_count: number;
  status_reason: string | null;
  ingest: {
    rtt_ms: number;
    receive_mbps: number;
    packets_received: number;
    packets_lost: number;
    packets_dropped: number;
    last_segment_seconds: number;
    segment_lag_ms: number;
  } | null;
}

export interface Balance {
  currency: string;
  wallet: number;
  earnings: number;
}

export interface Transaction {
  id: string;
  kind: "donation" | "topup" | "refund";
  direction: "in" | "out";
  amount: number;
  fee: number;
  currency: string;
  stream_id: string | null;
  message: string | null;
  created_at: string;
}

export interface Playback {
  state: "playing" | "paused";
  position: number;
  rate: number;
  updated_at_ms: number;
}

export interface Participant {
  id: number;
  username: string;
  seat: "host" | "subscriber" | "ordinary";
  can_control: boolean;
}

export interface RoomMessage {
  id: string;
  user_id: number;
  username: string;
  text: string;
  created_at: string;
}

export interface Room {
  id: string;
  title: string;
  private: boolean;
  host: { id: number; username: string };
  playing: { type: "video" | "recording"; id: string; title: string };
  participant_count: number;
  participants: Participant[];
  playback: Playback;
  slow_mode_seconds: number;
  messages?: { messages: RoomMessage[] };
}

export interface Notification {
  id: string;
  type: string;
  data: Record<string, unknown>;
  is_read: boolean;
  created_at: string;
}
