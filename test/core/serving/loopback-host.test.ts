import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost } from '../../../core/serving/loopback-host.js';

test('loopback: localhost, 127.0.0.0/8, ::1 and mapped 127.x in any spelling', () => {
  for (const host of [
    'localhost',
    'LOCALHOST',
    '127.0.0.1',
    '127.1.2.3',
    '127.255.255.255',
    '::1',
    '[::1]',
    '0:0:0:0:0:0:0:1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
  ]) {
    assert.equal(isLoopbackHost(host), true, host);
  }
});

test('not loopback: every interface, private and public addresses, other names', () => {
  for (const host of [
    '0.0.0.0',
    '::',
    '[::]',
    '10.0.0.1',
    '192.168.1.10',
    '128.0.0.1',
    '::ffff:10.0.0.1',
    '::2',
    'example.org',
    'localhost.example.org',
    '127.0.0.1.nip.io',
    '',
  ]) {
    assert.equal(isLoopbackHost(host), false, host);
  }
});
