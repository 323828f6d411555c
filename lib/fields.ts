/** Limits of the desk's fields, shared by the API, the forms, the views and the CLI. */

/** A description or a comment is at most this many characters. */
export const MAX_TEXT = 10_000;

/** User and API key names: what the CLI, Settings and the store accept. */
export const NAME = /^[\w.@-]{1,64}$/;

/** NAME in words, for error messages. */
export const NAME_RULE = "use 1–64 letters, digits, . _ @ or -";
