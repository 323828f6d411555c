/**
 * Manage the API keys the mobile app sends as `Authorization: Bearer <key>`.
 *
 *   deno task apikey create NAME [--scopes create,read,write]
 *                                  (prints the key once, as the last line)
 *   deno task apikey list
 *   deno task apikey revoke NAME
 */
import { API_SCOPES, type ApiScope } from "../db/store.ts";
import { newApiKey } from "../lib/tokens.ts";
import { fail, openCliStore, parseTaskArgs, requireName } from "./cli.ts";

const USAGE = `Usage:
  deno task apikey create NAME [--scopes create,read,write]
  deno task apikey list
  deno task apikey revoke NAME

Scopes: create (create tickets: what a key built into an app needs; the
default), read (list and get tickets), write (change and comment; includes read).`;

/** Parses `--scopes a,b`; null when it names no scope or one that does not exist. */
function parseScopes(text: string): ApiScope[] | null {
  const names = text.split(",").map((s) => s.trim().toLowerCase());
  if (
    names.some((s) => !(API_SCOPES as readonly string[]).includes(s))
  ) return null;
  return API_SCOPES.filter((s) => names.includes(s));
}

async function main() {
  const { values, positionals } = parseTaskArgs(USAGE, {
    scopes: { type: "string" },
  });
  const [command, given, ...extra] = positionals;
  if (!command) fail(USAGE, 2);
  if (!["create", "list", "revoke"].includes(command) || extra.length > 0) {
    fail(USAGE, 2);
  }
  const name = command === "list" ? "" : requireName(given, USAGE);
  if (values.scopes !== undefined && command !== "create") {
    fail(`--scopes goes only with create\n\n${USAGE}`, 2);
  }
  const scopes = parseScopes(values.scopes ?? "create");
  if (!scopes) {
    fail(
      `--scopes must list one or more of ${
        API_SCOPES.join(", ")
      }, separated by commas; got ${JSON.stringify(values.scopes)}\n\n${USAGE}`,
      2,
    );
  }
  const store = await openCliStore();
  try {
    switch (command) {
      case "create": {
        const { key, prefix, hash } = newApiKey();
        const k = await store.createApiKey({
          name,
          prefix,
          hash,
          scopes,
        });
        console.log(
          `Created API key "${k.name}" with scopes ${
            k.scopes.join(",")
          }. It is shown only this once; store it now:`,
        );
        console.log(key);
        break;
      }
      case "revoke": {
        const k = await store.revokeApiKey(name);
        console.log(`Revoked API key "${k.name}" (${k.prefix}…).`);
        break;
      }
      case "list": {
        const keys = await store.listApiKeys();
        if (keys.length === 0) console.log("No API keys yet.");
        for (const k of keys) {
          console.log(
            `${k.name.padEnd(24)} ${k.prefix}…  ${
              k.scopes.join(",").padEnd(17)
            }  ${
              k.revoked_at ? `revoked ${k.revoked_at}` : "active"
            }  last used ${k.last_used_at ?? "never"}`,
          );
        }
        break;
      }
    }
  } catch (err) {
    fail(`Cannot ${command} ${name}: ${(err as Error).message}`);
  } finally {
    await store.close();
  }
}

if (import.meta.main) await main();
