/**
 * Manage dashboard accounts.
 *
 *   deno task user add NAME [--role agent|admin] [--password-stdin]
 *   deno task user passwd NAME [--password-stdin]
 *   deno task user list
 *   deno task user disable NAME
 *   deno task user enable NAME
 */
import { type Role, ROLES } from "../db/store.ts";
import { hashPassword, passwordProblem } from "../lib/passwords.ts";
import {
  fail,
  openCliStore,
  parseTaskArgs,
  promptHidden,
  readStdinLine,
  requireName,
} from "./cli.ts";

const USAGE = `Usage:
  deno task user add NAME [--role agent|admin] [--password-stdin]
  deno task user passwd NAME [--password-stdin]
  deno task user list
  deno task user disable NAME
  deno task user enable NAME`;

async function readPassword(fromStdin: boolean): Promise<string> {
  const password = fromStdin
    ? await readStdinLine()
    : await promptHidden("Password: ");
  const problem = passwordProblem(password);
  if (problem) fail(`The password ${problem}.`, 2);
  if (!fromStdin && await promptHidden("Again: ") !== password) {
    fail("The passwords do not match.", 2);
  }
  return password;
}

async function main() {
  const { values, positionals } = parseTaskArgs(USAGE, {
    role: { type: "string", default: "agent" },
    "password-stdin": { type: "boolean", default: false },
  });
  const [command, given] = positionals;
  if (!command) fail(USAGE, 2);
  const name = command === "list" ? "" : requireName(given, USAGE);
  const store = await openCliStore();
  try {
    switch (command) {
      case "add": {
        if (!(ROLES as readonly string[]).includes(values.role)) {
          fail(`--role must be ${ROLES.join(" or ")}`, 2);
        }
        const password = await readPassword(values["password-stdin"]);
        const user = await store.createUser({
          username: name,
          passwordHash: await hashPassword(password),
          role: values.role as Role,
        });
        console.log(`Created ${user.role} "${user.username}".`);
        break;
      }
      case "passwd": {
        const password = await readPassword(values["password-stdin"]);
        await store.setPassword(name, await hashPassword(password));
        console.log(
          `Password of "${name}" changed; their sessions were ended.`,
        );
        break;
      }
      case "disable":
      case "enable": {
        await store.setUserDisabled(name, command === "disable");
        console.log(
          command === "disable"
            ? `Disabled "${name}" and ended their sessions.`
            : `Enabled "${name}".`,
        );
        break;
      }
      case "list": {
        const users = await store.listUsers();
        if (users.length === 0) console.log("No users yet.");
        for (const u of users) {
          console.log(
            `${u.username.padEnd(24)} ${u.role.padEnd(6)} ${
              u.disabled ? "disabled" : "active  "
            } created ${u.created_at}`,
          );
        }
        break;
      }
      default:
        fail(USAGE, 2);
    }
  } catch (err) {
    fail(`Cannot ${command} ${name}: ${(err as Error).message}`);
  } finally {
    await store.close();
  }
}

if (import.meta.main) await main();
