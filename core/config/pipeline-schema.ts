import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { packagePath } from '../package-root.js';
import type { JsonSchema } from '../plugins/json-schema.js';
import { createAjv } from './create-ajv.js';

let schema: JsonSchema | undefined;
let validator: ValidateFunction | undefined;

/** `schemas/pipeline.schema.json`: the shape of a pipeline, read once. */
export function pipelineSchema(): JsonSchema {
  schema ??= JSON.parse(readFileSync(packagePath('schemas', 'pipeline.schema.json'), 'utf8')) as JsonSchema;
  return schema;
}

/**
 * The one compiled validator of the pipeline's shape (phase one). It fills the schema's defaults
 * into the data it validates.
 */
export function pipelineShapeValidator(): ValidateFunction {
  validator ??= createAjv({ useDefaults: true }).compile(pipelineSchema());
  return validator;
}
