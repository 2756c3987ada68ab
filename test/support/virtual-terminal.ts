import { Writable } from 'node:stream';

/**
 * A terminal of a fixed width for display tests: a writable stream that says it is a TTY, and a
 * screen that the text written to it is played onto as a terminal plays it — auto-wrap at the last
 * column (deferred, as xterm does), `\n` as the terminal driver sends it (a new line, column 0), and
 * the cursor and erase sequences that redrawing displays use. Rows scrolled past are kept, like a
 * scrollback, so a copy a redraw left behind anywhere is seen.
 */
export class VirtualTerminal extends Writable {
  readonly isTTY = true;
  readonly rows = 24;
  /** Every row the terminal has shown, scrollback first. */
  readonly screen: string[][] = [[]];
  private row = 0;
  private column = 0;
  /** After writing the last column: the next printable character wraps first. */
  private wrapPending = false;

  constructor(readonly columns: number) {
    super({ decodeStrings: false });
  }

  override _write(chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.play(typeof chunk === 'string' ? chunk : String(chunk));
    callback();
  }

  /** The rows as text, trailing spaces and empty rows at the end removed. */
  lines(): string[] {
    const lines = this.screen.map((cells) =>
      cells
        .map((cell) => cell || ' ')
        .join('')
        .trimEnd(),
    );
    while (lines.length > 0 && lines.at(-1) === '') lines.pop();
    return lines;
  }

  private ensureRow(row: number): void {
    while (this.screen.length <= row) this.screen.push([]);
  }

  private play(text: string): void {
    // eslint-disable-next-line no-control-regex -- the escape character starts what a terminal plays
    const sequence = /\x1b\[([?]?)([0-9;]*)([A-Za-z])|\x1b[78]|([\s\S])/g;
    for (const match of text.matchAll(sequence)) {
      const [, privateMarker, parameters, command, character] = match;
      if (character !== undefined) this.character(character);
      else if (command !== undefined && privateMarker === '') this.control(command, Number(parameters || '0'), parameters ?? '');
    }
  }

  private character(character: string): void {
    if (character === '\n') {
      this.row += 1;
      this.column = 0;
      this.wrapPending = false;
      this.ensureRow(this.row);
      return;
    }
    if (character === '\r') {
      this.column = 0;
      this.wrapPending = false;
      return;
    }
    if (this.wrapPending) {
      this.row += 1;
      this.column = 0;
      this.wrapPending = false;
    }
    this.ensureRow(this.row);
    this.screen[this.row]![this.column] = character;
    if (this.column === this.columns - 1) this.wrapPending = true;
    else this.column += 1;
  }

  private control(command: string, count: number, parameters: string): void {
    const times = Math.max(1, count);
    this.wrapPending = false;
    switch (command) {
      case 'A':
        this.row = Math.max(0, this.row - times);
        break;
      case 'B':
        this.row += times;
        this.ensureRow(this.row);
        break;
      case 'F':
        this.row = Math.max(0, this.row - times);
        this.column = 0;
        break;
      case 'E':
        this.row += times;
        this.column = 0;
        this.ensureRow(this.row);
        break;
      case 'G':
        this.column = Math.max(0, count - 1);
        break;
      case 'K':
        // 2K: the whole row; K: from the cursor to the end of the row.
        this.screen[this.row] = parameters === '2' ? [] : this.screen[this.row]!.slice(0, this.column);
        break;
      case 'J':
        this.screen[this.row] = this.screen[this.row]!.slice(0, this.column);
        this.screen.splice(this.row + 1);
        break;
      default:
        break;
    }
  }
}
