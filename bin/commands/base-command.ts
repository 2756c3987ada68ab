import { Command, Flags } from '@oclif/core';
import type { LoadedEnvironmentFile } from '../../core/config/environment-file.js';
import { formatUserError, userErrorToJson } from '../../core/errors/format-user-error.js';
import { isUserError } from '../../core/errors/user-error.js';
import { redactProcessOutput } from './redacted-output.js';

// Every command prints through here: no secret of a loaded pipeline reaches the terminal.
redactProcessOutput();

/**
 * What every distill command shares: `--json` and `--verbose`, the `.env` file of the working
 * directory read into the environment (never over a variable already set), and one way of reporting
 * failures. A {@link UserError} prints as `file:line:col` blocks with no stack trace (`--verbose` adds
 * it) and exits 1; anything else is a bug and shows its stack.
 *
 * Commands import the core inside `run()`, not at the top of their file: `distill --help` and a
 * mistyped command then load no pipeline, plugin or SDK code, which keeps the first start fast.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  static override baseFlags = {
    verbose: Flags.boolean({ description: 'Show stack traces and debug logs.', default: false }),
  };

  /** The `.env` file read at start, or null when the working directory has none. */
  protected environmentFile: LoadedEnvironmentFile | null = null;

  protected get verbose(): boolean {
    return this.argv.includes('--verbose');
  }

  override async init(): Promise<void> {
    await super.init();
    const { loadEnvironmentFile } = await import('../../core/config/environment-file.js');
    this.environmentFile = await loadEnvironmentFile();
  }

  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (isUserError(error)) {
      if (this.jsonEnabled()) {
        process.stdout.write(JSON.stringify(userErrorToJson(error), null, 2) + '\n');
      } else {
        process.stderr.write(formatUserError(error) + '\n');
        if (this.verbose && error.stack) process.stderr.write(error.stack + '\n');
      }
      process.exitCode = 1;
      return undefined;
    }
    return super.catch(error);
  }
}
