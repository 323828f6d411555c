/** Random secrets: session ids, API keys, generated passwords. */
import { createHash, createHmac, randomBytes } from "node:crypto";

/** A 256-bit random token, base64url. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** A readable random password (about 120 bits) for the first admin. */
export function randomPassword(): string {
  return randomBytes(15).toString("base64url");
}

export const API_KEY_PREFIX = "tdk_";

/** A new API key: `tdk_` + 256 random bits; the first characters are its visible prefix. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = API_KEY_PREFIX + randomToken();
  return { key, prefix: key.slice(0, 12), hash: hashApiKey(key) };
}

/** API keys are stored only as SHA-256: a leaked database cannot call the API. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** Session ids are stored as an HMAC under SECRET_KEY: a leaked database holds no usable session. */
export function hashSessionId(id: string, secret: string): string {
  return createHmac("sha256", secret).update(id).digest("hex");
}
