/** Sample data shared by `deno task demo` and the benchmarks' bulk seed. */

/** User ids in the shapes the mobile app sends. */
export const SAMPLE_USERS = [
  "john_doe",
  "maria.k",
  "li_wei",
  "sam-ortiz",
  "a.nguyen",
  "fatima_z",
] as const;
