/**
 * The username rule. The original accepted anything once; we keep "set once"
 * and add a format that is safe in URLs, HTML and logs, plus case-insensitive
 * uniqueness (enforced by the `users_username_lower` index).
 */

/** 3–40 characters of A–Z a–z 0–9 `_` `.` `-`, starting with a letter or digit. */
export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$/;

/** Error strings of /user/update: the original's four, then ours. */
export const UPDATE_ERRORS = {
  noToken: 'No token',
  notAuthenticated: 'Not authenticated',
  unknownUser: 'Unknown User',
  alreadySet: 'Cannot modify username, already set',
  invalid: "Invalid username: use 3-40 characters (letters, digits, '_', '.', '-'), starting with a letter or digit",
  taken: 'Username already taken',
} as const;

/** True when `name` may be stored as a username. */
export function isValidUsername(name: string): boolean {
  return USERNAME_PATTERN.test(name);
}
