import { canonicalHash } from '../canonical-json.js';
import { createStepInstance } from '../config/create-step-instance.js';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import type { PluginStep } from '../config/pipeline-config.js';
import type { PluginInstanceByKind } from '../plugins/kinds/index.js';
import { promptForDataset, type Prompt } from '../plugins/kinds/prompt.js';
import type { PluginDependencies } from '../plugins/plugin-dependencies.js';
import { pluginKinds, type PluginKind } from '../plugins/plugin-kind.js';

type InstanceMaps = { [Kind in PluginKind]: Map<string, Promise<PluginInstanceByKind[Kind]>> };

/**
 * The plugin instances of one run: each made once, when first needed, and shared by every stage (and
 * every point of a sweep) that uses the same step. Made when needed, not up front: `distill train`
 * never creates the teacher, so it needs no API key.
 */
export class PipelineInstances {
  private readonly made: InstanceMaps;
  private readonly prompts = new Map<string, Promise<Prompt>>();

  constructor(readonly dependencies: PluginDependencies) {
    const made: Partial<InstanceMaps> = {};
    for (const kind of pluginKinds) made[kind] = new Map();
    this.made = made as InstanceMaps;
  }

  /** The instance for one step of `loaded` (the same instance for an identical step). */
  of<Kind extends PluginKind>(loaded: LoadedPipeline, kind: Kind, step: PluginStep): Promise<PluginInstanceByKind[Kind]> {
    const key = canonicalHash({ use: step.use, options: step.options });
    const made = this.made[kind];
    let instance = made.get(key);
    if (!instance) {
      instance = createStepInstance(loaded, kind, step, this.dependencies);
      made.set(key, instance);
    }
    return instance;
  }

  /**
   * The pipeline's prompt, given the pipeline's dataset (a few-shot prompt draws its exemplars from
   * it, and only then knows its template hash), made once.
   */
  prompt(loaded: LoadedPipeline): Promise<Prompt> {
    const key = canonicalHash({ prompt: loaded.config.prompt, dataset: loaded.config.dataset });
    let prompt = this.prompts.get(key);
    if (!prompt) {
      prompt = Promise.all([this.of(loaded, 'prompt', loaded.config.prompt), this.of(loaded, 'dataset', loaded.config.dataset)]).then(
        ([unbound, dataset]) => promptForDataset(unbound, dataset),
      );
      this.prompts.set(key, prompt);
    }
    return prompt;
  }

  /** The instances of a list of steps, in order. */
  all<Kind extends PluginKind>(loaded: LoadedPipeline, kind: Kind, steps: readonly PluginStep[]): Promise<PluginInstanceByKind[Kind][]> {
    return Promise.all(steps.map((step) => this.of(loaded, kind, step)));
  }
}
