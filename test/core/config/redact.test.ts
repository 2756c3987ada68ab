import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSecrets, redactText } from '../../../core/config/redact.js';

test('secrets are replaced in text, longest first, and too-short values are ignored', () => {
  const secrets = ['sk-abc', 'sk-abcdef', 'ab'];
  assert.equal(redactText('keys sk-abcdef and sk-abc; tab', secrets), 'keys [redacted] and [redacted]; tab');
});

test('objects are copied with secrets redacted in every string, keys untouched', () => {
  const value = { api_key: 'sk-secret-1', nested: [{ header: 'Bearer sk-secret-1' }, 3, null], 'sk-secret-1': true };
  const redacted = redactSecrets(value, ['sk-secret-1']);
  assert.deepEqual(redacted, { api_key: '[redacted]', nested: [{ header: 'Bearer [redacted]' }, 3, null], 'sk-secret-1': true });
  assert.equal(value.api_key, 'sk-secret-1', 'the input is not modified');
});
