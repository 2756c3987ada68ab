import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatUserError } from '../../../core/errors/format-user-error.js';
import { isUserError } from '../../../core/errors/user-error.js';
import { serveStudent, serveTokenVariable } from '../../../core/serving/serve-student.js';
import { tinyCausalLm, tinyCausalLmMissing } from '../inference/tiny-causal-lm-fixture.js';
import { tinyStudent, tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { serveDuringSuite } from './served-student.js';

const token = 'correct-horse-battery-staple';

/** Runs `body` with `$DISTILL_SERVE_TOKEN` unset (a developer may have it set), restoring it after. */
async function withoutTokenVariable<Result>(body: () => Promise<Result>): Promise<Result> {
  const saved = process.env[serveTokenVariable];
  // process.env is the host's: deleting is the only way to unset a variable.
  Reflect.deleteProperty(process.env, serveTokenVariable);
  try {
    return await body();
  } finally {
    if (saved !== undefined) process.env[serveTokenVariable] = saved;
  }
}

describe('distill serve with a bearer token', { skip: tinyStudentMissing() }, () => {
  const served = serveDuringSuite('trained', { token, logFormat: 'text' });

  async function assertUnauthorized(response: Response, challenge: RegExp): Promise<void> {
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', challenge);
    const body = (await response.json()) as { error: { status: number; message: string } };
    assert.equal(body.error.status, 401);
    assert.match(body.error.message, /bearer token/);
  }

  test('without the token every route is 401 with WWW-Authenticate: Bearer, unknown ones included', async () => {
    await assertUnauthorized(await fetch(`${served.server.url}/health`), /^Bearer$/);
    await assertUnauthorized(
      await fetch(`${served.server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: ['a'] }) }),
      /^Bearer$/,
    );
    // No 404: a client without the token learns nothing about the routes.
    await assertUnauthorized(await fetch(`${served.server.url}/no-such-route`), /^Bearer$/);
    await assertUnauthorized(
      await fetch(`${served.server.url}/health`, {
        headers: { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` },
      }),
      /^Bearer$/,
    );
  });

  test('a wrong token, shorter, longer or of the same length, is 401 invalid_token', async () => {
    for (const wrong of ['x', token.slice(0, -1), `${token}x`, token.replace('h', 'H')]) {
      await assertUnauthorized(
        await fetch(`${served.server.url}/health`, { headers: { authorization: `Bearer ${wrong}` } }),
        /^Bearer error="invalid_token"$/,
      );
    }
  });

  test('with the token (the scheme in any case) /health and /predict answer 200', async () => {
    const health = await fetch(`${served.server.url}/health`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok', precision: 'fp32' });
    const predict = await fetch(`${served.server.url}/predict`, {
      method: 'POST',
      headers: { authorization: `bearer ${token}` },
      body: JSON.stringify({ inputs: [served.fixture.test[0]!.input] }),
    });
    assert.equal(predict.status, 200);
    assert.deepEqual(await predict.json(), { predictions: [{ label: served.fixture.reference.predict_texts[0]!.trim() }] });
  });

  test('a refused request with a body closes the connection rather than read a body nobody will use', async () => {
    const response = await fetch(`${served.server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: ['a'] }) });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('connection'), 'close');
    await response.body?.cancel();
  });

  test('the access log shows the 401s and 200s but never the token', () => {
    assert.ok(
      served.logLines.some((line) => / "GET \/health" 401 \d+ms 0B$/.test(line)),
      served.logLines.join('\n'),
    );
    assert.ok(
      served.logLines.some((line) => / "POST \/predict" 200 \d+ms \d+B$/.test(line)),
      served.logLines.join('\n'),
    );
    for (const line of served.logLines) {
      assert.ok(!line.includes(token), line);
      assert.match(line, /^\d{4}-\d\d-\d\dT[\d:.]+Z 127\.0\.0\.1 "[A-Z]+ \/[^"]*" \d{3} \d+ms \d+B$/);
    }
  });
});

describe('where distill serve may listen', { skip: tinyStudentMissing() }, () => {
  test('refuses to start on 0.0.0.0 without a token, saying how to set one, before loading the model', async () => {
    await withoutTokenVariable(async () => {
      for (const host of ['0.0.0.0', '::', '192.168.1.10', 'example.org']) {
        // A model folder that does not exist: the refusal must come first.
        await assert.rejects(serveStudent({ model: '/no/such/model', host, port: 0 }), (error: unknown) => {
          assert.ok(isUserError(error));
          assert.match(error.message, new RegExp(`refusing to serve on ${host.replace(/\./g, '\\.')} without a bearer token`));
          assert.match(formatUserError(error), /fix: pass --token <secret> or set DISTILL_SERVE_TOKEN=<secret>/);
          return true;
        });
      }
    });
  });

  test('starts on 0.0.0.0 with a token, and reads the token from DISTILL_SERVE_TOKEN', async () => {
    const fixture = await tinyStudent('trained');
    const saved = process.env[serveTokenVariable];
    process.env[serveTokenVariable] = token;
    try {
      const server = await serveStudent({ model: fixture.exported, host: '0.0.0.0', port: 0 });
      try {
        assert.equal(server.requiresToken, true);
        const local = `http://127.0.0.1:${server.port}`;
        assert.equal((await fetch(`${local}/health`)).status, 401);
        assert.equal((await fetch(`${local}/health`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      } finally {
        await server.close();
      }
    } finally {
      if (saved === undefined) Reflect.deleteProperty(process.env, serveTokenVariable);
      else process.env[serveTokenVariable] = saved;
    }
  });

  test('an empty token or one with spaces is refused without repeating it', async () => {
    for (const bad of ['', 'two words-zebra42', 'tab\tzebra42']) {
      await assert.rejects(serveStudent({ model: '/no/such/model', port: 0, token: bad }), (error: unknown) => {
        assert.ok(isUserError(error));
        assert.match(error.message, /the bearer token is empty or holds spaces/);
        assert.ok(!formatUserError(error).includes('zebra42'), formatUserError(error));
        return true;
      });
    }
  });

  test('loopback hosts need no token', async () => {
    const fixture = await tinyStudent('trained');
    await withoutTokenVariable(async () => {
      for (const host of ['127.0.0.1', 'localhost']) {
        const server = await serveStudent({ model: fixture.exported, host, port: 0 });
        try {
          assert.equal(server.requiresToken, false);
          assert.equal((await fetch(`${server.url}/health`)).status, 200);
        } finally {
          await server.close();
        }
      }
    });
  });
});

describe('distill serve with a causal-LM student', { skip: tinyCausalLmMissing() }, () => {
  test('loads the decoder folder and answers /predict with the labels and rationales PyTorch generates', async () => {
    const fixture = await tinyCausalLm('llama');
    const server = await withoutTokenVariable(() =>
      serveStudent({ model: fixture.exported, port: 0, student: { maxNewTokens: fixture.reference.max_new_tokens } }),
    );
    try {
      const inputs = fixture.test.slice(0, 3).map((example) => example.input);
      const response = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs, explain: true }) });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { predictions: { label: string; rationale: string }[] };
      assert.deepEqual(
        body.predictions,
        [0, 1, 2].map((index) => ({ label: fixture.reference.predict_texts[index], rationale: fixture.reference.explain_texts[index] })),
      );
    } finally {
      await server.close();
    }
  });
});
