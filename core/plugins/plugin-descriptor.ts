import type { JsonSchema } from './json-schema.js';
import type { PluginDependencies } from './plugin-dependencies.js';
import type { PluginKind } from './plugin-kind.js';
import type { PluginRequirements, RequirementContext } from './plugin-requirements.js';
import type { SweepAxis } from './sweep-axis.js';

/**
 * What every plugin is: a plain, typed object. The loader rejects anything else with a message
 * saying which field is wrong. `id` and `version` go into cache keys, stage signatures and the run
 * lockfile, so bump `version` whenever the plugin's output for the same input changes.
 *
 * @typeParam Options - the options after validation against {@link PluginDescriptor.optionsSchema}.
 * @typeParam Instance - what `create` returns: the contract of the plugin's kind.
 */
export interface PluginDescriptor<Options = Record<string, unknown>, Instance = unknown> {
  /** Unique within its kind; kebab-case, e.g. `openai`, `rationale-rate`. */
  readonly id: string;
  /** Which contract the instance implements. */
  readonly kind: PluginKind;
  /** Semantic version of the plugin's behaviour. */
  readonly version: string;
  /** One line for `distill plugins`. */
  readonly summary: string;
  /** JSON Schema of the `options` block; unknown keys must be rejected (`additionalProperties: false`). */
  readonly optionsSchema: JsonSchema;
  /**
   * Options that create a working instance, shown by `distill init` and used by the contract test
   * harness of the plugin's kind. Omit only when `{}` is valid.
   */
  readonly exampleOptions?: Options;
  /** The `sweep:` axes whose values are this plugin's options (see {@link SweepAxis}); usually none. */
  readonly sweepAxes?: readonly SweepAxis[];
  /**
   * What the plugin needs from outside the pipeline with these (validated) options — environment
   * variables such as an API key, data folders — so that `distill run` checks them all before it
   * creates the run folder, and `--dry-run` reports every one missing at once with its fix. It must
   * not read the network or load heavy modules. Optional: without it nothing is checked in advance.
   */
  requirements?(options: Options, context: RequirementContext): PluginRequirements;
  /** Build an instance from validated options. Heavy modules (SDKs) should be imported lazily here. */
  create(options: Options, dependencies: PluginDependencies): Instance | Promise<Instance>;
}

/**
 * A descriptor of any options and instance type, as stored in the registry. `any`, not `unknown`:
 * the registry hands a kind's descriptors out as that kind's descriptor type (a `TeacherDescriptor`),
 * which `unknown` options would not be assignable to.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the registry's descriptors are read back as their kind's type
export type AnyPluginDescriptor = PluginDescriptor<any, any>;
