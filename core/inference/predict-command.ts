/** Characters a POSIX shell reads literally outside quotes. */
const plainWord = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One shell word for a text: as it is when nothing in it is special, single-quoted otherwise, and
 * ANSI-C quoted (`$'…'`, bash and zsh) when it holds a line break or another control character, so
 * that the command stays on one line and pastes as one.
 */
export function shellWord(text: string): string {
  if (plainWord.test(text)) return text;
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (!/[\u0000-\u001f\u007f]/.test(text)) return `'${text.replaceAll("'", `'\\''`)}'`;
  // eslint-disable-next-line no-control-regex -- control characters are what is escaped
  const escaped = text.replace(/[\\'\u0000-\u001f\u007f]/g, (character) => {
    if (character === '\\' || character === "'") return `\\${character}`;
    if (character === '\n') return '\\n';
    if (character === '\t') return '\\t';
    if (character === '\r') return '\\r';
    return `\\x${character.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  return `$'${escaped}'`;
}

/** `distill predict --model <folder> <input>`, one line a shell runs as it is. */
export function predictCommand(modelFolder: string, input: string): string {
  return `distill predict --model ${shellWord(modelFolder)} ${shellWord(input)}`;
}
