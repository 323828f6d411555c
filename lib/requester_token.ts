/**
 * The requester's link: `/r/<ticket id>.<mac>`, where mac is an HMAC-SHA256
 * of the ticket id and its token version under a key derived from the
 * server's secret. Nothing secret is stored: the same ticket always gives the
 * same token (so an idempotent replay returns the same URL), and bumping the
 * version revokes every link made before. The id travels in clear, so finding
 * the ticket is one query; the mac is compared in constant time.
 */
import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";
import type { Ticket } from "../db/store.ts";

const TOKEN = /^([1-9][0-9]{0,15})\.([A-Za-z0-9_-]{43})$/;

/** What a ticket's link is made of. */
export type LinkedTicket = Pick<Ticket, "id" | "token_version">;

/** Makes, reads and checks requester links under one secret. */
export interface RequesterLinks {
  /** The ticket's current token. */
  token(t: LinkedTicket): string;
  /** The page `/r/<token>`: absolute under PUBLIC_URL, else a path. */
  url(t: LinkedTicket): string;
  /** The ticket id a token names, or null when it is not a token at all. */
  ticketIdOf(token: string): number | null;
  /** Whether `token` is the ticket's current token. */
  matches(token: string, t: LinkedTicket): boolean;
}

/** Requester links under the server's secret key, absolute under `publicUrl` when given. */
export function requesterLinks(
  secretKey: string,
  publicUrl: string | null,
): RequesterLinks {
  // A key of its own: a mac of these can never stand in for a session hash.
  const key = createHmac("sha256", secretKey)
    .update("ticket-desk requester link v1").digest();
  const mac = (t: LinkedTicket) =>
    createHmac("sha256", key).update(`${t.id}.${t.token_version}`).digest();
  const token = (t: LinkedTicket) => `${t.id}.${mac(t).toString("base64url")}`;
  return {
    token,
    url: (t) => `${publicUrl ?? ""}/r/${token(t)}`,
    ticketIdOf(value) {
      const m = TOKEN.exec(value);
      return m ? Number(m[1]) : null;
    },
    matches(value, t) {
      const m = TOKEN.exec(value);
      if (!m || Number(m[1]) !== t.id) return false;
      const given = Buffer.from(m[2]!, "base64url");
      const expected = mac(t);
      return given.length === expected.length &&
        timingSafeEqual(given, expected);
    },
  };
}
