import { Args, Flags } from '@oclif/core';
import type { Estimate } from '../../core/teacher/estimate.js';
import { BaseCommand } from './base-command.js';
import { overrideFlags } from './pipeline-flags.js';

/** Dollars with four decimals below $10, two above. */
function dollars(amount: number): string {
  return `$${amount.toFixed(amount < 10 ? 4 : 2)}`;
}

/** `distill estimate <pipeline>`: what the teacher stage would cost, without spending anything. */
export default class EstimateCommand extends BaseCommand {
  static override summary = 'Estimate teacher tokens and dollars per provider for a pipeline, spending nothing.';
  static override description =
    'Renders the prompt of every training example, counts its tokens (js-tiktoken for OpenAI, an approximation for Anthropic) ' +
    "and adds an expected completion length. Prices come from the price table and the pipeline's prices block; " +
    'for teachers that offer batch mode the batch cost is shown beside the real-time cost.';
  static override examples = [
    '<%= config.bin %> estimate pipelines/cqa-zero-shot-openai.yaml',
    '<%= config.bin %> estimate pipelines/cqa-few-shot-openai.yaml --completion-tokens 120 --json',
  ];
  static override args = {
    pipeline: Args.string({ description: 'Pipeline file.', required: true }),
  };
  static override flags = {
    'completion-tokens': Flags.integer({ description: 'Expected completion tokens per example (default: by dataset, else 60).', min: 0 }),
    ...overrideFlags,
  };

  async run(): Promise<Estimate> {
    const { args, flags } = await this.parse(EstimateCommand);
    const [{ builtinRegistry }, { loadPipeline }, { estimatePipeline }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/config/load-pipeline.js'),
      import('../../core/teacher/estimate.js'),
    ]);
    const loaded = await loadPipeline(args.pipeline, {
      registry: builtinRegistry(),
      overrides: flags.set ?? [],
      environmentFile: this.environmentFile,
    });
    const estimate = await estimatePipeline(loaded, { completionTokens: flags['completion-tokens'] });
    if (!this.jsonEnabled()) {
      this.log(
        `${estimate.pipeline}: ${estimate.examples} prompts of split "${estimate.split}", ${estimate.completion_tokens_per_example} completion tokens each (${estimate.completion_tokens_source})` +
          (estimate.samples > 1 ? `, ${estimate.samples} answers per example (teacher.samples)` : ''),
      );
      for (const row of estimate.rows) {
        const cost = row.cost_usd === null ? 'no price' : dollars(row.cost_usd);
        // Side by side with real time when the teacher offers batch mode (teacher.mode: batch).
        const batch = row.batch_cost_usd === null ? '' : `  batch ${dollars(row.batch_cost_usd).padStart(10)}`;
        this.log(
          `  ${`${row.provider}/${row.model}`.padEnd(32)} ${String(row.prompt_tokens).padStart(12)} prompt  ${String(row.completion_tokens).padStart(10)} completion  ${cost.padStart(10)}${batch}  ${row.teacher ? '(teacher) ' : ''}[${row.counter}]`,
        );
      }
    }
    return estimate;
  }
}
