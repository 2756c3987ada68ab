/** Where a plugin's requirements are looked up: the pipeline's folder and the run's environment. */
export interface RequirementContext {
  /** Folder of the pipeline file: relative paths in options resolve against it. */
  readonly baseDirectory: string;
  /** Folder the command runs in: relative paths from environment variables resolve against it. */
  readonly workingDirectory: string;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** An environment variable a plugin cannot work without (an API key). */
export interface RequiredVariable {
  readonly name: string;
  /** What it holds, for the message, e.g. `API key for OpenAI`. */
  readonly what: string;
  /** The option that could stand in for it, relative to the step's options (e.g. `api_key`), if any. */
  readonly option?: string;
  /** How to set it, e.g. `export OPENAI_API_KEY=<your key> (or put it in .env)`. */
  readonly fix: string;
}

/** A file or folder a plugin reads (its data). */
export interface RequiredPath {
  /** What it is, for the message, e.g. `the data folder`. */
  readonly what: string;
  /** Where the plugin will look (absolute), or null when neither an option nor a variable names it. */
  readonly path: string | null;
  /** The option naming it, relative to the step's options (e.g. `root`), if any. */
  readonly option?: string;
  /** How to provide it: the variable or option to set, and what the folder holds. */
  readonly fix: string;
}

/**
 * What a plugin needs from outside the pipeline file to work with some options. The core checks them
 * all before a run creates anything, and a dry run lists what is missing, without creating the plugin
 * (so no SDK is loaded and no key is sent anywhere).
 */
export interface PluginRequirements {
  readonly variables?: readonly RequiredVariable[];
  readonly paths?: readonly RequiredPath[];
}
