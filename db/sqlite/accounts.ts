/** SQL for users, sessions and API keys: reads for the main thread, writes for the writer. */
import type { Statements } from "./connection.ts";
import { apiScopesColumn, rowToApiKey, rowToUser } from "../rows.ts";
import {
  AccountNotFoundError,
  type ApiKey,
  type ApiScope,
  type BoardLayout,
  DuplicateNameError,
  type Role,
  type SessionRecord,
  type User,
} from "../store.ts";

type Row = Record<string, unknown>;

const USER_COLUMNS = "id, username, role, created_at, disabled, board_layout";

// ---- reads ----------------------------------------------------------------

/** Counts users. */
export function countUsers(s: Statements): number {
  return Number(s.get("SELECT count(*) AS n FROM users").get()!.n);
}

/** Finds a user with their hash, by name in any letter case. */
export function findUserForLogin(
  s: Statements,
  username: string,
): { user: User; passwordHash: string } | null {
  const r = s.get(
    `SELECT ${USER_COLUMNS}, password_hash FROM users WHERE username = ?`,
  ).get(username);
  return r
    ? { user: rowToUser(r), passwordHash: String(r.password_hash) }
    : null;
}

/** Lists users by name. */
export function listUsers(s: Statements): User[] {
  return s.get(`SELECT ${USER_COLUMNS} FROM users ORDER BY username`).all()
    .map(rowToUser);
}

/** Returns a session and its user. */
export function getSession(
  s: Statements,
  idHash: string,
): SessionRecord | null {
  const r = s.get(
    `SELECT u.id, u.username, u.role, u.created_at, u.disabled, u.board_layout,
            s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
  ).get(idHash);
  if (!r) return null;
  return {
    user: rowToUser(r),
    created_at: String(r.s_created_at),
    last_seen_at: String(r.s_last_seen_at),
  };
}

/** Lists API keys, newest first. */
export function listApiKeys(s: Statements): ApiKey[] {
  return s.get("SELECT * FROM api_keys ORDER BY id DESC").all().map(
    rowToApiKey,
  );
}

/** Finds an API key by hash. */
export function findApiKey(s: Statements, hash: string): ApiKey | null {
  const r = s.get("SELECT * FROM api_keys WHERE key_hash = ?").get(hash);
  return r ? rowToApiKey(r) : null;
}

// ---- writes (run by the writer, inside its transaction) ---------------------

export type AccountWrite =
  | { action: "createUser"; username: string; passwordHash: string; role: Role }
  | { action: "setPassword"; username: string; passwordHash: string }
  | { action: "setUserDisabled"; username: string; disabled: boolean }
  | { action: "setBoardLayout"; username: string; layout: BoardLayout }
  | { action: "createSession"; idHash: string; userId: number }
  | { action: "touchSession"; idHash: string }
  | { action: "deleteSession"; idHash: string }
  | {
    action: "createApiKey";
    name: string;
    prefix: string;
    hash: string;
    scopes?: readonly ApiScope[];
  }
  | { action: "revokeApiKey"; name: string }
  | { action: "touchApiKey"; id: number };

function isUniqueViolation(err: unknown): boolean {
  return /UNIQUE constraint failed/.test(String((err as Error)?.message));
}

function userByName(s: Statements, username: string): User {
  const r = s.get(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`).get(
    username,
  );
  if (!r) throw new AccountNotFoundError("user", username);
  return rowToUser(r);
}

/** Applies one account write. */
export function applyAccountWrite(s: Statements, w: AccountWrite): unknown {
  const now = new Date().toISOString();
  switch (w.action) {
    case "createUser":
      try {
        return rowToUser(
          s.get(
            `INSERT INTO users (username, password_hash, role, created_at)
             VALUES (?, ?, ?, ?) RETURNING ${USER_COLUMNS}`,
          ).get(w.username, w.passwordHash, w.role, now)!,
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new DuplicateNameError("user", w.username);
        }
        throw err;
      }
    case "setPassword": {
      const u = userByName(s, w.username);
      s.get("UPDATE users SET password_hash = ? WHERE id = ?").run(
        w.passwordHash,
        u.id,
      );
      s.get("DELETE FROM sessions WHERE user_id = ?").run(u.id);
      return u;
    }
    case "setUserDisabled": {
      const u = userByName(s, w.username);
      s.get("UPDATE users SET disabled = ? WHERE id = ?").run(
        w.disabled ? 1 : 0,
        u.id,
      );
      if (w.disabled) s.get("DELETE FROM sessions WHERE user_id = ?").run(u.id);
      return { ...u, disabled: w.disabled };
    }
    case "setBoardLayout": {
      const u = userByName(s, w.username);
      s.get("UPDATE users SET board_layout = ? WHERE id = ?").run(
        w.layout,
        u.id,
      );
      return { ...u, board_layout: w.layout };
    }
    case "createSession":
      s.get(
        `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at)
         VALUES (?, ?, ?, ?)`,
      ).run(w.idHash, w.userId, now, now);
      return null;
    case "touchSession":
      s.get("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?").run(
        now,
        w.idHash,
      );
      return null;
    case "deleteSession":
      s.get("DELETE FROM sessions WHERE id_hash = ?").run(w.idHash);
      return null;
    case "createApiKey":
      try {
        return rowToApiKey(
          s.get(
            `INSERT INTO api_keys (name, prefix, key_hash, created_at, scopes)
             VALUES (?, ?, ?, ?, ?) RETURNING *`,
          ).get(w.name, w.prefix, w.hash, now, apiScopesColumn(w.scopes))!,
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new DuplicateNameError("api key", w.name);
        }
        throw err;
      }
    case "revokeApiKey": {
      const r = s.get(
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?)
         WHERE name = ? RETURNING *`,
      ).get(now, w.name);
      if (!r) throw new AccountNotFoundError("api key", w.name);
      return rowToApiKey(r);
    }
    case "touchApiKey":
      s.get("UPDATE api_keys SET last_used_at = ? WHERE id = ?").run(now, w.id);
      return null;
  }
}
