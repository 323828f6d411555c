/** What every request carries through the middleware chain. */
import type { Context } from "hono";
import type { ApiKey, User } from "../db/store.ts";

export type AppEnv = {
  Variables: {
    requestId: string;
    /** The logged-in admin or agent (dashboard routes). */
    user?: User;
    /** The API key that authenticated the request (JSON API). */
    apiKey?: ApiKey;
    /** The id hash of the request's session (dashboard routes). */
    session?: string;
    /** Who a change is recorded as: a username, `api:<key name>` or `anonymous`. */
    actor?: string;
  };
};

/** The name recorded as the author of a change. */
export function actorOf(c: Context): string {
  return c.get("actor") ?? c.get("user")?.username ?? "anonymous";
}

/** The client's address: the proxy's X-Forwarded-For entry when trusted, else the socket's. */
export function clientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    // The last entry is the one our own proxy appended: earlier ones are the client's word.
    const xff = c.req.header("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (xff) return xff;
  }
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "unknown";
}

/** Whether the client reached us over HTTPS (directly, or via a trusted proxy). */
export function isHttps(c: Context, trustProxy: boolean): boolean {
  if (trustProxy) {
    const proto = c.req.header("x-forwarded-proto")?.split(",")[0]?.trim();
    if (proto) return proto.toLowerCase() === "https";
  }
  return new URL(c.req.url).protocol === "https:";
}

/** The origin the browser sees (scheme and host), for the CSRF Origin check. */
export function publicOrigin(c: Context, trustProxy: boolean): string {
  const url = new URL(c.req.url);
  const host = (trustProxy && c.req.header("x-forwarded-host")) ||
    c.req.header("host") || url.host;
  return `${isHttps(c, trustProxy) ? "https" : "http"}://${host}`;
}
