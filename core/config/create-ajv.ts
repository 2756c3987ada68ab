import { existsSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type FuncKeywordDefinition } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
import formatsModule from 'ajv-formats';

/**
 * What the custom keywords see while one document is validated (ajv's `passContext`): call a
 * validator as `validate.call(context, data)`.
 */
export interface ValidationContext {
  /** Folder `existingPath` values resolve against: the pipeline file's folder. */
  readonly baseDirectory?: string;
  /**
   * The folder of the file that wrote the value at a pointer (relative to the validated data), when
   * it is not the pipeline's own: a path written in a file reached through `extends` is relative to
   * that file, and is rewritten relative to `baseDirectory`, where plugins resolve it.
   */
  readonly directoryOf?: (pointer: string) => string | undefined;
  /** Filled by the `secret` keyword: where each secret value sits (relative to the validated data). */
  readonly secrets?: { pointer: string; value: string }[];
}

function isContext(value: unknown): value is ValidationContext {
  return typeof value === 'object' && value !== null && ('baseDirectory' in value || 'secrets' in value);
}

/** `secret: true` — an annotation; the validator records where secret values are so they can be redacted. */
const secretKeyword: FuncKeywordDefinition = {
  keyword: 'secret',
  schemaType: 'boolean',
  validate(this: unknown, schema: boolean, data: unknown, _parentSchema?: unknown, dataContext?: DataValidationCxt) {
    if (schema && isContext(this) && this.secrets && typeof data === 'string' && dataContext) {
      this.secrets.push({ pointer: dataContext.instancePath, value: data });
    }
    return true;
  },
};

type ExistingPathValidate = ((
  this: unknown,
  schema: boolean,
  data: string,
  parentSchema?: unknown,
  dataContext?: DataValidationCxt,
) => boolean) & {
  errors?: Partial<ErrorObject>[];
};

const validateExistingPath: ExistingPathValidate = function (this: unknown, schema, data, _parentSchema, dataContext): boolean {
  if (!schema || !isContext(this) || this.baseDirectory === undefined) return true;
  const from = (dataContext && this.directoryOf?.(dataContext.instancePath)) ?? this.baseDirectory;
  const resolved = path.resolve(from, data);
  if (!existsSync(resolved)) {
    validateExistingPath.errors = [{ keyword: 'existingPath', message: `path not found: ${resolved}`, params: { path: resolved } }];
    return false;
  }
  if (from !== this.baseDirectory && !path.isAbsolute(data) && dataContext) {
    // Written in an extended file: re-express it from the pipeline's folder, where plugins look.
    const parent = dataContext.parentData as Record<string | number, unknown>;
    parent[dataContext.parentDataProperty] = path.relative(this.baseDirectory, resolved) || '.';
  }
  return true;
};

/**
 * `existingPath: true` — a string naming a file or folder that must exist, relative to the file that
 * writes it (like `tsconfig` paths through `extends`); the validated value is relative to the
 * pipeline file's folder.
 */
const existingPathKeyword: FuncKeywordDefinition = {
  keyword: 'existingPath',
  type: 'string',
  schemaType: 'boolean',
  errors: true,
  modifying: true,
  validate: validateExistingPath,
};

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((formatsModule as unknown as { default?: typeof formatsModule }).default ?? formatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

/** Options of {@link createAjv}. */
export interface CreateAjvOptions {
  /** Fill `default` values into the data (the loader wants this; editors' schema checks do not). */
  readonly useDefaults?: boolean;
}

/**
 * The one ajv configuration distill validates with: strict mode (an unknown or misplaced keyword is
 * a plugin bug, caught by the contract tests), every error at once, `verbose` so messages can quote
 * the schema, formats, and the two distill keywords `secret` and `existingPath` documented in
 * `core/plugins/json-schema.ts`.
 *
 * Two strict checks stay off because they reject idiomatic schemas: `strictRequired` (a `required`
 * inside `if`/`then`/`oneOf` naming a property defined beside it) and `strictTypes` (keywords such
 * as `properties` in a branch that does not repeat `type: object`; it would otherwise only log).
 */
export function createAjv(options: CreateAjvOptions = {}): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    strictTypes: false,
    allowUnionTypes: true,
    verbose: true,
    passContext: true,
    useDefaults: options.useDefaults ?? false,
  });
  addFormats(ajv);
  ajv.addKeyword(secretKeyword);
  ajv.addKeyword(existingPathKeyword);
  return ajv;
}
