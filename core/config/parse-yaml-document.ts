import { Composer, Lexer, Parser, YAMLParseError, type CST, type Document, type LineCounter } from 'yaml';

/** A parsed document, or the offset at which its nesting went past what may be read. */
export type ParsedYaml = { readonly document: Document.Parsed } | { readonly tooDeepAt: number };

/** Thrown from inside the token stream to stop the parser; caught before the parse returns. */
class NestingExceeded extends Error {
  constructor(readonly offset: number) {
    super(`nesting exceeded at offset ${offset}`);
    this.name = 'NestingExceeded';
  }
}

/**
 * `parseDocument` of the `yaml` package (one document; a second is a `MULTIPLE_DOCS` error), with
 * the syntax tree's nesting bounded while it is built. The package's parser keeps a stack of the
 * collections open at each point; a megabyte of `[` or of `- ` makes that stack a million entries
 * deep, which costs seconds and a gigabyte before any later check could see the depth. Here the
 * stack is looked at after every token and parsing stops once it holds more than `maxNesting`.
 * Keys are not checked for uniqueness: the package compares each key with every earlier one of
 * its mapping, which is quadratic (`inspectYamlTree` finds duplicates in linear time).
 */
export function parseYamlDocument(source: string, lineCounter: LineCounter, maxNesting: number): ParsedYaml {
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer({ prettyErrors: false, uniqueKeys: false, merge: true });
  function* tokens(): Generator<CST.Token> {
    lineCounter.addNewLine(0);
    for (const lexeme of new Lexer().lex(source)) {
      yield* parser.next(lexeme);
      if (parser.stack.length > maxNesting) throw new NestingExceeded(parser.offset);
    }
    yield* parser.end();
  }
  let document: Document.Parsed | undefined;
  try {
    for (const composed of composer.compose(tokens(), true, source.length)) {
      if (!document) {
        document = composed;
        continue;
      }
      const [start, end] = composed.range;
      document.errors.push(new YAMLParseError([start, end], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
      break;
    }
  } catch (error) {
    if (error instanceof NestingExceeded) return { tooDeepAt: error.offset };
    throw error;
  }
  // compose(…, forceDoc = true) yields a document even for empty input.
  return { document: document! };
}
