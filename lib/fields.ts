/** Limits of the desk's fields, shared by the API, the forms, the views and the CLI. */

/** A description or a comment is at most this many characters. */
export const MAX_TEXT = 10_000;

/** The longest user or API key name. */
export const NAME_MAX = 64;

/** User and API key names: what the CLI, Settings and the store accept. */
export const NAME = new RegExp(`^[\\w.@-]{1,${NAME_MAX}}$`);

/** NAME in words, for error messages. */
export const NAME_RULE = `use 1–${NAME_MAX} letters, digits, . _ @ or -`;

/** A new password's length, in characters: long enough to resist guessing, short enough to hash cheaply. */
export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 1024;
