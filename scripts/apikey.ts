/**
 * Manage the API keys the mobile app sends as `Authorization: Bearer <key>`.
 *
 *   deno task apikey create NAME   (prints the key once, as the last line)
 *   deno task apikey list
 *   deno task apikey revoke NAME
 */
import { newApiKey } from "../lib/tokens.ts";
import { fail, openCliStore } from "./cli.ts";

const USAGE = `Usage:
  deno task apikey create NAME
  deno task apikey list
  deno task apikey revoke NAME`;

const NAME = /^[\w.@-]{1,64}$/;

async function main() {
  const [command, name] = Deno.args;
  if (!command || command === "--help" || command === "-h") {
    fail(USAGE, command ? 0 : 2);
  }
  if (!["create", "list", "revoke"].includes(command)) fail(USAGE, 2);
  if (command !== "list" && (!name || !NAME.test(name))) {
    fail(`${USAGE}\n\nNAME: 1-64 letters, digits, . _ @ or -`, 2);
  }
  const store = await openCliStore();
  try {
    switch (command) {
      case "create": {
        const { key, prefix, hash } = newApiKey();
        await store.createApiKey({ name: name!, prefix, hash });
        console.log(
          `Created API key "${name}". It is shown only this once; store it now:`,
        );
        console.log(key);
        break;
      }
      case "revoke": {
        const k = await store.revokeApiKey(name!);
        console.log(`Revoked API key "${k.name}" (${k.prefix}…).`);
        break;
      }
      case "list": {
        const keys = await store.listApiKeys();
        if (keys.length === 0) console.log("No API keys yet.");
        for (const k of keys) {
          console.log(
            `${k.name.padEnd(24)} ${k.prefix}…  ${
              k.revoked_at ? `revoked ${k.revoked_at}` : "active"
            }  last used ${k.last_used_at ?? "never"}`,
          );
        }
        break;
      }
      default:
        fail(USAGE, 2);
    }
  } catch (err) {
    fail(`Cannot ${command} ${name ?? ""}: ${(err as Error).message}`);
  } finally {
    await store.close();
  }
}

if (import.meta.main) await main();
