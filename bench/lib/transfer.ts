/**
 * First-load transfer size: the bytes a browser downloads for a page and the
 * stylesheets and scripts it links, as sent on the wire (compressed when the
 * server compresses). fetch() would decompress, so this speaks HTTP/1.1 itself.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  /** Status line and headers, bytes. */
  headerBytes: number;
  /** Body bytes as sent (after chunked decoding, before content decoding). */
  bodyBytes: number;
  /** The body with its Content-Encoding undone. */
  body: Uint8Array;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) (out.set(c, off), off += c.length);
  return out;
}

function indexOfCrlfCrlf(buf: Uint8Array, from = 0): number {
  for (let i = from; i + 3 < buf.length; i++) {
    if (
      buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 &&
      buf[i + 3] === 10
    ) return i;
  }
  return -1;
}

function dechunk(buf: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  const text = new TextDecoder("latin1");
  let off = 0;
  while (off < buf.length) {
    let eol = off;
    while (eol + 1 < buf.length && !(buf[eol] === 13 && buf[eol + 1] === 10)) {
      eol++;
    }
    const size = parseInt(
      text.decode(buf.subarray(off, eol)).split(";")[0]!,
      16,
    );
    if (!size) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    off = eol + 2 + size + 2;
  }
  return concat(parts);
}

function decode(encoding: string | undefined, body: Uint8Array): Uint8Array {
  switch (encoding) {
    case "br":
      return new Uint8Array(brotliDecompressSync(body));
    case "gzip":
      return new Uint8Array(gunzipSync(body));
    case "deflate":
      return new Uint8Array(inflateSync(body));
    default:
      return body;
  }
}

/** GETs a path over a fresh connection, returning what crossed the wire. */
export async function rawGet(
  port: number,
  path: string,
  acceptEncoding: string | null,
): Promise<RawResponse> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunks: Uint8Array[] = [];
  try {
    const head = [
      `GET ${path} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      "Accept: text/html,text/css,*/*",
      ...(acceptEncoding ? [`Accept-Encoding: ${acceptEncoding}`] : []),
      "Connection: close",
      "",
      "",
    ].join("\r\n");
    await conn.write(new TextEncoder().encode(head));
    const buf = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed by the peer */ }
  }
  const all = concat(chunks);
  const end = indexOfCrlfCrlf(all);
  if (end < 0) throw new Error(`GET ${path}: no HTTP response header`);
  const lines = new TextDecoder("latin1").decode(all.subarray(0, end)).split(
    "\r\n",
  );
  const status = Number(lines[0]!.split(" ")[1]);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    headers.set(
      line.slice(0, i).trim().toLowerCase(),
      line.slice(i + 1).trim(),
    );
  }
  let sent = all.subarray(end + 4);
  if (headers.get("transfer-encoding")?.includes("chunked")) {
    sent = dechunk(sent);
  }
  return {
    status,
    headers,
    headerBytes: end + 4,
    bodyBytes: sent.length,
    body: decode(headers.get("content-encoding"), sent),
  };
}

/** Same-origin stylesheets and scripts an HTML page links. */
export function linkedAssets(html: string): string[] {
  const urls = new Set<string>();
  for (const tag of html.match(/<(link|script)\b[^>]*>/gi) ?? []) {
    const attr = (name: string) =>
      new RegExp(`\\b${name}\\s*=\\s*["']([^"']+)["']`, "i").exec(tag)?.[1];
    const isLink = /^<link/i.test(tag);
    const rel = attr("rel")?.toLowerCase() ?? "";
    const url = isLink
      ? (/stylesheet|modulepreload|preload|icon/.test(rel)
        ? attr("href")
        : undefined)
      : attr("src");
    if (url && url.startsWith("/") && !url.startsWith("//")) urls.add(url);
  }
  return [...urls];
}

/** The path a 3xx response sends the browser to on this server, or null. */
function sameOriginRedirect(res: RawResponse, port: number): string | null {
  const location = res.headers.get("location");
  if (res.status < 300 || res.status > 399 || !location) return null;
  const url = new URL(location, `http://127.0.0.1:${port}/`);
  if (url.port !== String(port)) return null;
  return url.pathname + url.search;
}

export interface FirstLoad {
  /** Bytes on the wire (headers + bodies) with the given Accept-Encoding. */
  totalBytes: number;
  /** Body bytes only. */
  bodyBytes: number;
  resources: {
    path: string;
    status: number;
    encoding: string;
    bodyBytes: number;
    decodedBytes: number;
  }[];
}

/** Loads a page and everything it links, as a first visit with an empty cache would. */
export async function firstLoad(
  port: number,
  path: string,
  acceptEncoding: string | null,
): Promise<FirstLoad> {
  const loads: { path: string; res: RawResponse }[] = [];
  // A browser follows same-origin redirects (e.g. to a login page) before it renders.
  let next: string | null = path;
  let page: RawResponse | null = null;
  for (let hops = 0; next !== null && hops < 5; hops++) {
    page = await rawGet(port, next, acceptEncoding);
    loads.push({ path: next, res: page });
    next = sameOriginRedirect(page, port);
  }
  const html = new TextDecoder().decode(page!.body);
  for (const asset of linkedAssets(html)) {
    loads.push({ path: asset, res: await rawGet(port, asset, acceptEncoding) });
  }
  return {
    totalBytes: loads.reduce(
      (n, l) => n + l.res.headerBytes + l.res.bodyBytes,
      0,
    ),
    bodyBytes: loads.reduce((n, l) => n + l.res.bodyBytes, 0),
    resources: loads.map(({ path, res }) => ({
      path,
      status: res.status,
      encoding: res.headers.get("content-encoding") ?? "identity",
      bodyBytes: res.bodyBytes,
      decodedBytes: res.body.length,
    })),
  };
}
