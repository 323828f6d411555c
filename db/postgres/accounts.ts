/** SQL for users, sessions and API keys in PostgreSQL. */
import {
  AccountNotFoundError,
  type ApiKey,
  type BoardLayout,
  DuplicateNameError,
  type NewApiKey,
  type Role,
  type SessionRecord,
  type User,
} from "../store.ts";
import {
  iso,
  isUniqueViolation,
  type Sql,
  type TransactionSql,
} from "./connection.ts";
import { apiScopesColumn, rowToApiKey, rowToUser } from "../rows.ts";

// Names match whatever their letter case: lower() on both sides, which the
// unique lower() indexes of migration 003 serve.

/** Counts users. */
export async function countUsers(sql: Sql): Promise<number> {
  const [r] = await sql`SELECT count(*) AS n FROM users`;
  return Number(r!.n);
}

/** Creates a user; DuplicateNameError when the name is taken in any letter case. */
export async function createUser(
  sql: Sql,
  u: { username: string; passwordHash: string; role: Role },
): Promise<User> {
  try {
    const [r] = await sql`
      INSERT INTO users (username, password_hash, role, created_at)
      VALUES (${u.username}, ${u.passwordHash}, ${u.role}, ${new Date()})
      RETURNING id, username, role, created_at, disabled, board_layout`;
    return rowToUser(r!);
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new DuplicateNameError("user", u.username);
    }
    throw err;
  }
}

/** Finds a user with their hash, by name in any letter case. */
export async function findUserForLogin(
  sql: Sql,
  username: string,
): Promise<{ user: User; passwordHash: string } | null> {
  const [r] = await sql`
    SELECT id, username, role, created_at, disabled, board_layout, password_hash FROM users
    WHERE lower(username) = lower(${username})`;
  return r
    ? { user: rowToUser(r), passwordHash: String(r.password_hash) }
    : null;
}

/** Lists users by name (SQLite's NOCASE order). */
export async function listUsers(sql: Sql): Promise<User[]> {
  const rows = await sql`
    SELECT id, username, role, created_at, disabled, board_layout FROM users
    ORDER BY lower(username) COLLATE "C", id`;
  return rows.map(rowToUser);
}

async function userByName(
  sql: Sql | TransactionSql,
  username: string,
): Promise<User> {
  const [r] = await sql`
    SELECT id, username, role, created_at, disabled, board_layout FROM users
    WHERE lower(username) = lower(${username})`;
  if (!r) throw new AccountNotFoundError("user", username);
  return rowToUser(r);
}

/** Replaces a password hash and ends the user's sessions, in one transaction. */
export async function setPassword(
  sql: Sql,
  username: string,
  passwordHash: string,
): Promise<User> {
  return await sql.begin(async (tx) => {
    const u = await userByName(tx, username);
    await tx`UPDATE users SET password_hash = ${passwordHash} WHERE id = ${u.id}`;
    await tx`DELETE FROM sessions WHERE user_id = ${u.id}`;
    return u;
  });
}

/** Disables (ending the sessions) or re-enables a user, in one transaction. */
export async function setUserDisabled(
  sql: Sql,
  username: string,
  disabled: boolean,
): Promise<User> {
  return await sql.begin(async (tx) => {
    const u = await userByName(tx, username);
    await tx`UPDATE users SET disabled = ${disabled} WHERE id = ${u.id}`;
    if (disabled) await tx`DELETE FROM sessions WHERE user_id = ${u.id}`;
    return { ...u, disabled };
  });
}

/** Remembers how a user likes the board. */
export async function setBoardLayout(
  sql: Sql,
  username: string,
  layout: BoardLayout,
): Promise<User> {
  const u = await userByName(sql, username);
  await sql`UPDATE users SET board_layout = ${layout} WHERE id = ${u.id}`;
  return { ...u, board_layout: layout };
}

/** Records a session. */
export async function createSession(
  sql: Sql,
  idHash: string,
  userId: number,
): Promise<void> {
  const now = new Date();
  await sql`
    INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at)
    VALUES (${idHash}, ${userId}, ${now}, ${now})`;
}

/** Returns a session and its user. */
export async function getSession(
  sql: Sql,
  idHash: string,
): Promise<SessionRecord | null> {
  const [r] = await sql`
    SELECT u.id, u.username, u.role, u.created_at, u.disabled, u.board_layout,
           s.created_at AS s_created_at, s.last_seen_at AS s_last_seen_at
    FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ${idHash}`;
  if (!r) return null;
  return {
    user: rowToUser(r),
    created_at: iso(r.s_created_at),
    last_seen_at: iso(r.s_last_seen_at),
  };
}

/** Marks a session as used now. */
export async function touchSession(sql: Sql, idHash: string): Promise<void> {
  await sql`UPDATE sessions SET last_seen_at = ${new Date()}
            WHERE id_hash = ${idHash}`;
}

/** Ends a session. */
export async function deleteSession(sql: Sql, idHash: string): Promise<void> {
  await sql`DELETE FROM sessions WHERE id_hash = ${idHash}`;
}

/** Stores an API key's hash; DuplicateNameError when the name is taken. */
export async function createApiKey(
  sql: Sql,
  k: NewApiKey,
): Promise<ApiKey> {
  const scopes = apiScopesColumn(k.scopes);
  try {
    const [r] = await sql`
      INSERT INTO api_keys (name, prefix, key_hash, created_at, scopes)
      VALUES (${k.name}, ${k.prefix}, ${k.hash}, ${new Date()}, ${scopes})
      RETURNING *`;
    return rowToApiKey(r!);
  } catch (err) {
    if (isUniqueViolation(err)) throw new DuplicateNameError("api key", k.name);
    throw err;
  }
}

/** Lists API keys, newest first. */
export async function listApiKeys(sql: Sql): Promise<ApiKey[]> {
  return (await sql`SELECT * FROM api_keys ORDER BY id DESC`).map(rowToApiKey);
}

/** Revokes a key by name (keeping the first revocation time). */
export async function revokeApiKey(sql: Sql, name: string): Promise<ApiKey> {
  const [r] = await sql`
    UPDATE api_keys SET revoked_at = coalesce(revoked_at, ${new Date()})
    WHERE lower(name) = lower(${name}) RETURNING *`;
  if (!r) throw new AccountNotFoundError("api key", name);
  return rowToApiKey(r);
}

/** Finds an API key by hash. */
export async function findApiKey(
  sql: Sql,
  hash: string,
): Promise<ApiKey | null> {
  const [r] = await sql`SELECT * FROM api_keys WHERE key_hash = ${hash}`;
  return r ? rowToApiKey(r) : null;
}

/** Records that a key was used now. */
export async function touchApiKey(sql: Sql, id: number): Promise<void> {
  await sql`UPDATE api_keys SET last_used_at = ${new Date()} WHERE id = ${id}`;
}
