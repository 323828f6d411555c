/** SSE forced drops: reserved for the events stream (routes/events.ts), which is not built yet. */
import { type ScenarioResult, skipped } from "./result.ts";

export interface SseOptions {
  dir: string;
  drops: number;
}

/**
 * Will drop SSE connections mid-stream, reconnect with Last-Event-ID and check
 * there is no gap and no duplicate at the seam. Until the stream exists it reports
 * a skip, so the table keeps its row.
 */
export function sseScenario(_opts: SseOptions): Promise<ScenarioResult> {
  return Promise.resolve(
    skipped("sse forced drops", "skipped: SSE not built yet"),
  );
}
