import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolateString } from '../../../core/config/interpolate-environment.js';

test('variables are filled, defaults apply when unset or empty, $${ is a literal', () => {
  const environment = { MODEL: 'gpt-4o-mini', EMPTY: '' };
  assert.equal(interpolateString('openai/${MODEL}', environment).text, 'openai/gpt-4o-mini');
  assert.equal(interpolateString('${MISSING:-fallback} ${EMPTY:-also}', environment).text, 'fallback also');
  assert.equal(interpolateString('${EMPTY}', environment).text, '');
  assert.equal(interpolateString('cost: $${MODEL}', environment).text, 'cost: ${MODEL}');
  assert.deepEqual(interpolateString('${MODEL}-${MISSING:-x}', environment).variables, ['MODEL', 'MISSING']);
});

test('an unset variable and a malformed reference are problems naming them', () => {
  const result = interpolateString('key ${API_KEY} and ${not valid}', {});
  assert.deepEqual(
    result.problems.map((problem) => problem.message),
    ['environment variable "API_KEY" is not set', 'invalid variable reference "${not valid}"'],
  );
  assert.equal(result.text, 'key ${API_KEY} and ${not valid}', 'left as written');
});
