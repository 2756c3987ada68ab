import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whether listening on `host` keeps the server on this machine: `localhost`, 127.0.0.0/8, `::1`, or
 * an IPv4-mapped loopback address (`::ffff:127.0.0.1`), in any spelling. Anything else, including
 * `0.0.0.0`, `::` and every other host name (which may resolve to a public interface), counts as
 * reachable from outside.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  if (!isIPv6(name)) return false;
  // The URL parser writes every IPv6 spelling in one compressed form, mapped IPv4 included (as hex).
  const canonical = new URL(`http://[${name}]`).hostname;
  return canonical === '[::1]' || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}
