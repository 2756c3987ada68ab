import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalHash, canonicalJson } from '../../core/canonical-json.js';

test('key order does not change the canonical form; array order and values do', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [1, 'x'], c: null } }), '{"a":{"c":null,"d":[1,"x"]},"b":1}');
  assert.equal(canonicalHash({ a: 1, b: 2 }), canonicalHash({ b: 2, a: 1 }));
  assert.notEqual(canonicalHash([1, 2]), canonicalHash([2, 1]));
  assert.notEqual(canonicalHash({ a: 1 }), canonicalHash({ a: '1' }));
  assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
  assert.match(canonicalHash({}), /^[0-9a-f]{64}$/);
});

test('values without a JSON meaning are refused, not silently changed', () => {
  assert.throws(() => canonicalJson({ a: Number.NaN }), /non-finite number at \$\.a/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /cannot encode function/);
});
