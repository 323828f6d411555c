/**
 * playwright-core for the browser tests, named with its version here and not
 * in deno.json's import map: `deno task` caches every package of that map (and
 * of the lock's workspace list), so a server's first `task start` would
 * download the browser-test tools too.
 */
export { chromium } from "npm:playwright-core@1.65.1";
export type {
  Browser,
  BrowserContext,
  BrowserContextOptions,
  Page,
  Route,
} from "npm:playwright-core@1.65.1";
