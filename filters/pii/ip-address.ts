/**
 * Public IP addresses. Only addresses that can identify a machine on the internet count, as
 * datatrove's PIIFormatter does (`only_remove_public_ips`): private, loopback, link-local,
 * shared, multicast, reserved and documentation ranges (RFC 6890's special-purpose registry)
 * are left, so `127.0.0.1`, `192.168.1.1` and `10.0.0.2` in code and configuration stay. A
 * dotted quad after "version", "v" or the like, or with a fifth part, is a version number.
 * IPv6: global unicast (2000::/3) written with at least three groups, less 2001:db8::/32.
 */
import { isIPv6 } from 'node:net';
import { standsAlone } from './boundary.ts';
import type { PiiSpan } from './types.ts';

const IPV4 = /(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}/g;
const IPV6 = /[23][0-9a-fA-F]{3}:[0-9a-fA-F:]{4,}/g;
const VERSION_BEFORE = /(?:\bv|\bver\.?|\bversion|\brelease|\brev\.?|\bbuild|\bupdate)\s*$/i;

/** [first address, prefix length] of RFC 6890's special-purpose IPv4 ranges (not globally reachable). */
const SPECIAL_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16],
  ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
];

const toInt = (ip: string): number => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const SPECIAL_RANGES = SPECIAL_V4.map(([ip, bits]) => {
  const size = 2 ** (32 - bits);
  const first = toInt(ip);
  return [first, first + size - 1] as const;
});

export function isPublicIpv4(ip: string): boolean {
  const n = toInt(ip);
  return !SPECIAL_RANGES.some(([lo, hi]) => n >= lo && n <= hi);
}

export function findIpAddresses(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(IPV4)) {
    const start = m.index;
    const end = start + m[0].length;
    if (!standsAlone(text, start, end) || !isPublicIpv4(m[0])) continue;
    if (VERSION_BEFORE.test(text.slice(Math.max(0, start - 12), start))) continue;
    out.push({ type: 'IP_ADDRESS', start, end });
  }
  for (const m of text.matchAll(IPV6)) {
    let s = m[0];
    while (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
    const start = m.index;
    const end = start + s.length;
    if (s.split(':').filter(Boolean).length < 3 || !isIPv6(s) || /^2001:0?db8:/i.test(s)) continue;
    if (!standsAlone(text, start, end)) continue;
    out.push({ type: 'IP_ADDRESS', start, end });
  }
  return out;
}
