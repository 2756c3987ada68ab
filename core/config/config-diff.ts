import { isDeepStrictEqual } from 'node:util';
import { isPlainObject, type LocatedDocument } from './merge-documents.js';
import { redactSecrets } from './redact.js';
import { childPointer, locate, type SourceMap } from './source-map.js';

/** How one key differs between two configurations. */
export type ConfigChangeKind = 'added' | 'removed' | 'changed';

/** One difference between two resolved configurations, at a JSON pointer, with where each side wrote it. */
export interface ConfigChange {
  /** JSON pointer of the key (`/loss/options/alpha`; list items by index, `/samplers/1`). */
  readonly pointer: string;
  readonly kind: ConfigChangeKind;
  /** The old value (absent when added), secrets redacted. */
  readonly before?: unknown;
  /** The new value (absent when removed), secrets redacted. */
  readonly after?: unknown;
  /** `file:line:col` of the old value (absent when added). */
  readonly beforeSource?: string;
  /** `file:line:col` of the new value (absent when removed). */
  readonly afterSource?: string;
}

/** Options of {@link diffDocuments}. */
export interface ConfigDiffOptions {
  /** Secret values, replaced by `[redacted]` wherever they appear in a value (see `redact.ts`). */
  readonly secrets: readonly string[];
  /**
   * How to name the files of each side in sources, by the file as the source maps show it: a run's
   * snapshot is shown as `<package>@<version>/<recipe>`, not as a path inside the run folder.
   */
  readonly beforeFileLabel?: (file: string) => string;
  readonly afterFileLabel?: (file: string) => string;
}

// Keys whose string values are credentials whatever plugin they belong to: their values are added to
// the secrets, so a key written literally in a recipe is never printed even when no schema says so.
const credentialKey = /(^|_)(api_?key|token|secret|password)$/i;
const variableReference = /^\$\{[^}]*\}$/;

/** String values under credential-named keys (`api_key`, `auth_token`, …), except `${VAR}` references. */
export function credentialValues(value: unknown): string[] {
  const found: string[] = [];
  const walk = (node: unknown, key: string | undefined): void => {
    if (typeof node === 'string') {
      if (key !== undefined && credentialKey.test(key) && !variableReference.test(node)) found.push(node);
    } else if (Array.isArray(node)) {
      for (const item of node) walk(item, key);
    } else if (isPlainObject(node)) {
      for (const [childKey, child] of Object.entries(node)) walk(child, childKey);
    }
  };
  walk(value, undefined);
  return found;
}

/**
 * The differences between two located documents, key by key, in the order of the new document's
 * keys (removed keys after the kept ones of the same mapping). Mappings are compared key by key;
 * lists item by item by index, as a reader counts them (`samplers/1` is the second sampler, whatever
 * it became); anything else, and a change of type, is one change of the whole value. A key only one
 * side has is one change with its whole value. Values are redacted of `secrets` and of credential
 * values of either side (see {@link credentialValues}); a secret that changed is still reported, as
 * `[redacted]` on both sides.
 */
export function diffDocuments(before: LocatedDocument, after: LocatedDocument, options: ConfigDiffOptions): ConfigChange[] {
  const secrets = [...options.secrets, ...credentialValues(before.value), ...credentialValues(after.value)];
  const source = (sourceMap: SourceMap, pointer: string, label: ((file: string) => string) | undefined): string | undefined => {
    const position = locate(sourceMap, pointer);
    if (!position) return undefined;
    return `${label ? label(position.file) : position.file}:${position.line}:${position.column}`;
  };
  const changes: ConfigChange[] = [];
  const report = (kind: ConfigChangeKind, pointer: string, old: unknown, current: unknown): void => {
    const beforeSource = kind === 'added' ? undefined : source(before.sourceMap, pointer, options.beforeFileLabel);
    const afterSource = kind === 'removed' ? undefined : source(after.sourceMap, pointer, options.afterFileLabel);
    changes.push({
      pointer,
      kind,
      ...(kind === 'added' ? {} : { before: redactSecrets(old, secrets) }),
      ...(kind === 'removed' ? {} : { after: redactSecrets(current, secrets) }),
      ...(beforeSource === undefined ? {} : { beforeSource }),
      ...(afterSource === undefined ? {} : { afterSource }),
    });
  };
  const compare = (old: unknown, current: unknown, pointer: string): void => {
    if (isPlainObject(old) && isPlainObject(current)) {
      for (const [key, value] of Object.entries(current)) {
        const child = childPointer(pointer, key);
        if (Object.hasOwn(old, key)) compare(old[key], value, child);
        else report('added', child, undefined, value);
      }
      for (const [key, value] of Object.entries(old))
        if (!Object.hasOwn(current, key)) report('removed', childPointer(pointer, key), value, undefined);
    } else if (Array.isArray(old) && Array.isArray(current)) {
      for (let index = 0; index < Math.max(old.length, current.length); index += 1) {
        const child = childPointer(pointer, index);
        if (index >= old.length) report('added', child, undefined, current[index]);
        else if (index >= current.length) report('removed', child, old[index], undefined);
        else compare(old[index], current[index], child);
      }
    } else if (!isDeepStrictEqual(old, current)) {
      report('changed', pointer, old, current);
    }
  };
  compare(before.value, after.value, '');
  return changes;
}

// A value longer than this is cut in the text output (`--json` has it whole).
const maxShownValueLength = 120;

/** A value as one line of text: JSON (strings quoted, so `"1"` and `1` differ), cut when long. */
function shownValue(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > maxShownValueLength ? `${text.slice(0, maxShownValueLength - 1)}…` : text;
}

/**
 * The text form of changes, one line per key (`~` changed, `+` added, `-` removed), each followed by
 * the source of its old side (`was`) and new side (`now`):
 *
 * ```
 * ~ /loss/options/alpha: 0.5 → 0.3
 *     was @acme/recipes@1.0.0/recipes/nli.yaml:22:10
 *     now node_modules/@acme/recipes/recipes/nli.yaml:22:10
 * ```
 */
export function formatChanges(changes: readonly ConfigChange[]): string {
  const lines: string[] = [];
  for (const change of changes) {
    if (change.kind === 'changed') lines.push(`~ ${change.pointer}: ${shownValue(change.before)} → ${shownValue(change.after)}`);
    else if (change.kind === 'added') lines.push(`+ ${change.pointer}: ${shownValue(change.after)}`);
    else lines.push(`- ${change.pointer}: ${shownValue(change.before)}`);
    if (change.beforeSource !== undefined) lines.push(`    was ${change.beforeSource}`);
    if (change.afterSource !== undefined) lines.push(`    now ${change.afterSource}`);
  }
  return lines.join('\n');
}
