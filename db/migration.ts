/** What each backend's migrate.ts lists: its ordered SQL files, each applied once, in its own transaction, and recorded. */

/** One schema change: `version` orders it and records it as applied. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
