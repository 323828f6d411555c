/** A small server-sent-events reader for tests: parses a fetch Response body into messages. */

export interface SseFrame {
  id?: string;
  /** The filter channel of a frame on a shared stream (`f:` lines). */
  f?: string;
  event?: string;
  data: string;
  retry?: number;
  comment?: string;
}

/** Reads frames from a response body as they arrive. */
export async function* readSse(res: Response): AsyncGenerator<SseFrame> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let frame: SseFrame = { data: "" };
  let hasData = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) return;
      buf += value;
      const lines = buf.split(/\r\n|\r|\n/);
      buf = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "") {
          if (
            hasData || frame.id !== undefined || frame.event ||
            frame.comment !== undefined
          ) {
            yield frame;
          }
          frame = { data: "" };
          hasData = false;
          continue;
        }
        const i = line.indexOf(":");
        const field = i < 0 ? line : line.slice(0, i);
        const val = i < 0 ? "" : line.slice(i + 1).replace(/^ /, "");
        if (field === "") frame.comment = val;
        else if (field === "data") {
          frame.data += (hasData ? "\n" : "") + val;
          hasData = true;
        } else if (field === "id") frame.id = val;
        else if (field === "f") frame.f = val;
        else if (field === "event") frame.event = val;
        else if (field === "retry") frame.retry = Number(val);
      }
    }
  } finally {
    reader.releaseLock();
    await res.body?.cancel().catch(() => {});
  }
}

/** Collects frames until `stop` says so or `ms` pass; returns what arrived. */
export async function collectSse(
  res: Response,
  stop: (frames: SseFrame[]) => boolean,
  ms = 5000,
): Promise<SseFrame[]> {
  const frames: SseFrame[] = [];
  const it = readSse(res);
  const deadline = Date.now() + ms;
  try {
    while (!stop(frames)) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const next = await Promise.race([
        it.next(),
        new Promise<null>((r) => (timer = setTimeout(() => r(null), left))),
      ]);
      clearTimeout(timer);
      if (next === null || next.done) break;
      frames.push(next.value);
    }
  } finally {
    await it.return(undefined);
  }
  return frames;
}
