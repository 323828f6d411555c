/**
 * Manage the webhook endpoints the desk signs and sends its changes to.
 *
 *   deno task webhook add URL [--events ticket.created,comment.public]
 *                              (prints the secret once, as the last line)
 *   deno task webhook list
 *   deno task webhook remove ID
 */
import { parseArgs } from "node:util";
import {
  DEFAULT_WEBHOOK_EVENTS,
  WEBHOOK_EVENTS,
  type WebhookEventType,
} from "../db/store.ts";
import { ConfigError, readWebhookAllowPrivate } from "../config.ts";
import { endpointUrlProblem } from "../lib/webhooks/destination.ts";
import { newWebhookSecret } from "../lib/webhooks/signature.ts";
import { fail, openCliStore } from "./cli.ts";

const USAGE = `Usage:
  deno task webhook add URL [--events a,b]
  deno task webhook list
  deno task webhook remove ID

Events: ${WEBHOOK_EVENTS.join(", ")}
(default: ${DEFAULT_WEBHOOK_EVENTS.join(",")}; internal notes only when named).
URLs must be public unless WEBHOOK_ALLOW_PRIVATE=1, as for the server.`;

/** Parses `--events a,b`; null when it names no event or one that does not exist. */
function parseEvents(text: string): WebhookEventType[] | null {
  const names = text.split(",").map((s) => s.trim().toLowerCase());
  if (names.some((n) => !(WEBHOOK_EVENTS as readonly string[]).includes(n))) {
    return null;
  }
  return WEBHOOK_EVENTS.filter((e) => names.includes(e));
}

function readAllowPrivate(): boolean {
  try {
    return readWebhookAllowPrivate((name) => Deno.env.get(name));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    fail(`Configuration error: ${err.message}`, 2);
  }
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs({
      args: Deno.args,
      allowPositionals: true,
      options: {
        events: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const [command, arg, ...extra] = positionals;
  if (values.help || !command) fail(USAGE, values.help ? 0 : 2);
  if (!["add", "list", "remove"].includes(command) || extra.length > 0) {
    fail(USAGE, 2);
  }
  if (command !== "list" && !arg) fail(USAGE, 2);
  if (values.events !== undefined && command !== "add") {
    fail(`--events goes only with add\n\n${USAGE}`, 2);
  }
  const events = values.events === undefined
    ? [...DEFAULT_WEBHOOK_EVENTS]
    : parseEvents(values.events);
  if (!events || events.length === 0) {
    fail(
      `--events must list one or more of ${
        WEBHOOK_EVENTS.join(", ")
      }, separated by commas; got ${JSON.stringify(values.events)}`,
      2,
    );
  }
  if (command === "add") {
    const problem = endpointUrlProblem(arg!, readAllowPrivate());
    if (problem) fail(`The URL ${problem}: ${JSON.stringify(arg)}`, 2);
  }
  if (command === "remove" && !/^[1-9][0-9]{0,15}$/.test(arg!)) {
    fail(`ID must be a webhook's number (see: deno task webhook list)`, 2);
  }
  const store = await openCliStore();
  try {
    switch (command) {
      case "add": {
        const secret = newWebhookSecret();
        const w = await store.createWebhook({ url: arg!, events, secret });
        console.log(
          `Added webhook ${w.id} for ${w.url} (${
            w.events.join(",")
          }). Its signing secret is shown only this once; store it now:`,
        );
        console.log(secret);
        break;
      }
      case "list": {
        const all = await store.listWebhooks();
        if (all.length === 0) console.log("No webhooks yet.");
        for (const w of all) {
          console.log(
            `${String(w.id).padStart(4)}  ${w.url}  ${w.events.join(",")}  ${
              w.disabled_at
                ? `DISABLED ${w.disabled_at}: ${w.disabled_reason}`
                : "active"
            }  ${w.pending} waiting`,
          );
        }
        break;
      }
      case "remove": {
        await store.removeWebhook(Number(arg));
        console.log(`Removed webhook ${arg}, with its deliveries and log.`);
        break;
      }
    }
  } catch (err) {
    fail(`Cannot ${command} ${arg ?? ""}: ${(err as Error).message}`);
  } finally {
    await store.close();
  }
}

if (import.meta.main) await main();
