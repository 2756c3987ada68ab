import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import { CsvParser, parseCsv, readCsvRecords } from '../../../core/parsing/csv.js';
import { readToEnd } from '../../support/async-values.js';
import { testPath } from '../../support/paths.js';

test('quoted fields keep separators, doubled quotes and line breaks', () => {
  const rows = parseCsv('a,b,c\n"x, y","say ""hi""","two\nlines"\nplain,,end');
  assert.deepEqual(rows, [
    ['a', 'b', 'c'],
    ['x, y', 'say "hi"', 'two\nlines'],
    ['plain', '', 'end'],
  ]);
});

test('CRLF and LF both end rows, and blank lines are skipped', () => {
  assert.deepEqual(parseCsv('a,b\r\n1,2\r\n\r\n3,4\n'), [
    ['a', 'b'],
    ['1', '2'],
    ['3', '4'],
  ]);
});

test('chunks may split a row anywhere, even inside a doubled quote or a CRLF', () => {
  const text = 'id,text\r\n1,"He said ""no""\r\nthen left"\r\n2,"x,y"\r\n';
  const whole = parseCsv(text);
  const parser = new CsvParser();
  const rows = [...Array.from(text).flatMap((character) => parser.push(character)), ...parser.end()].map((row) => row.cells);
  assert.deepEqual(rows, whole);
  assert.equal(whole[1]![1], 'He said "no"\r\nthen left');
});

test('an unterminated quoted field is an error naming the line it started on', () => {
  const parser = new CsvParser();
  parser.push('a\n"open\nstill open');
  assert.throws(() => parser.end(), /unterminated quoted field starting on line 2/);
});

test('readCsvRecords streams records keyed by the header, with their lines', async () => {
  const records = [];
  for await (const record of readCsvRecords(testPath('plugins', 'datasets', 'fixtures', 'quoted.csv'))) records.push(record);
  assert.deepEqual(
    records.map((record) => [record.value, record.line, record.index]),
    [
      [{ id: '1', text: 'Hello, world', label: 'positive' }, 2, 0],
      [{ id: '2', text: 'She said "hi"\nand left', label: 'negative' }, 3, 1],
      [{ id: '3', text: 'plain', label: 'neutral' }, 5, 2],
    ],
  );
});

test('a row with more cells than the header is a UserError naming the line and the fix', async () => {
  const file = testPath('plugins', 'datasets', 'fixtures', 'ragged.csv');
  await assert.rejects(
    () => readToEnd(readCsvRecords(file)),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.problems[0]!.line, 2);
      assert.match(error.problems[0]!.message, /has 3 cells, the header has 2/);
      assert.match(error.problems[0]!.fix!, /quote fields/);
      return true;
    },
  );
});

test('a missing CSV file is a UserError naming the path', async () => {
  const file = testPath('plugins', 'datasets', 'fixtures', 'absent.csv');
  await assert.rejects(
    () => readToEnd(readCsvRecords(file, 'data file')),
    (error: unknown) => error instanceof UserError && error.message === `data file not found: ${file}`,
  );
});
