/** What every request carries through the middleware chain. */
import type { Context } from "hono";

export type AppEnv = {
  Variables: {
    requestId: string;
  };
};

/** The name recorded as the author of a dashboard change. */
export function actorOf(_c: Context): string {
  // Until accounts land (issue 4) every dashboard change is made by "admin".
  return "admin";
}
