// Webhook endpoints and deliveries as the API returns them, for the webhooks tests.
import type { Delivery, Endpoint } from "../src/api";

export const endpoint = (over: Partial<Endpoint> = {}): Endpoint => ({
  id: "e1",
  url: "https://cms.example.org/hooks/kadr",
  description: "",
  events: ["*"],
  all_users: false,
  enabled: true,
  created_at: "2026-11-23T00:00:00Z",
  updated_at: "2026-11-23T00:00:00Z",
  ...over,
});

export const delivery = (id: string, over: Partial<Delivery> = {}): Delivery => ({
  id,
  event_id: `ev-${id}`,
  event_type: "video.created",
  state: "delivered",
  attempts: 1,
  last_status: 200,
  last_duration_ms: 42,
  created_at: "2026-11-23T10:00:00Z",
  delivered_at: "2026-11-23T10:00:01Z",
  ...over,
});
