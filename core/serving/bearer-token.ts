import { createHash, timingSafeEqual } from 'node:crypto';

/** What an `Authorization` header amounts to: the right token, none (or not a bearer one), or a wrong one. */
export type BearerCheck = 'accepted' | 'missing' | 'wrong';

/** Checks the `Authorization` header of each request against the server's token. */
export type BearerTokenCheck = (authorization: string | undefined) => BearerCheck;

/** Characters a token may hold: visible ASCII, so that it fits an `Authorization` header unchanged. */
export const bearerTokenPattern = /^[\x21-\x7e]+$/;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * A check of `Authorization: Bearer <token>` (the scheme in any case, RFC 9110). Both sides are
 * compared as SHA-256 digests with `timingSafeEqual`: equal lengths whatever was sent, so neither the
 * time taken nor an early length mismatch tells a client how much of the token it got right.
 */
export function createBearerTokenCheck(token: string): BearerTokenCheck {
  const expected = digest(token);
  return (authorization) => {
    const match = /^bearer +(\S+) *$/i.exec(authorization ?? '');
    if (!match) return 'missing';
    return timingSafeEqual(digest(match[1]!), expected) ? 'accepted' : 'wrong';
  };
}
