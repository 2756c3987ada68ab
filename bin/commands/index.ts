import PluginsCommand from './plugins.js';

/** Every command, by id (`cache:stats` is invoked as `distill cache stats`). */
export const commands = {
  plugins: PluginsCommand,
};
