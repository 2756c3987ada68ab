import { Tokenizer } from '@huggingface/tokenizers';

/** The model inside a loaded tokenizer: pre-tokenised words to pieces. */
interface WordPieceModel {
  encode(words: string[]): string[];
}

/**
 * The part of `@huggingface/tokenizers`' `Tokenizer` this file uses. The package's published types
 * cannot be read under NodeNext resolution (their relative imports have no file extensions), so
 * TypeScript sees the class as unresolved; this says what the code relies on instead.
 */
interface LoadedTokenizer {
  readonly model: WordPieceModel | null;
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  decode(ids: number[], options: { skip_special_tokens: boolean; clean_up_tokenization_spaces: boolean }): string;
}

const TokenizerClass = Tokenizer as new (tokenizerJson: object, tokenizerConfig: object) => LoadedTokenizer;

/** Text to token ids and back, as the Hugging Face tokenizer of the checkpoint does it. */
export interface StudentTokenizer {
  /** Token ids with the tokenizer's post-processing (T5 appends `</s>`), cut to `maxTokens` keeping the last id. */
  encode(text: string, maxTokens?: number): number[];
  /** Token ids with or without the tokenizer's special tokens (a causal LM's prompt and its targets differ). */
  encodeText(text: string, addSpecialTokens: boolean): number[];
  /** Text of generated ids, special tokens dropped. */
  decode(ids: readonly number[]): string;
}

/**
 * Loads a `tokenizer.json` with `@huggingface/tokenizers` (pure JavaScript, offline), which follows
 * the Rust library's normaliser, pre-tokeniser, model and post-processor, so the ids equal those the
 * trainer fed PyTorch.
 */
export function createStudentTokenizer(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>): StudentTokenizer {
  const tokenizer = new TokenizerClass(tokenizerJson, tokenizerConfig);
  const model = (tokenizerJson.model as { type?: unknown } | undefined)?.type;
  if (model === 'Unigram' && tokenizer.model) memoiseWords(tokenizer.model);
  // The exporter writes the key; transformers 5, which trained and scored the model, defaults it to
  // false where @huggingface/tokenizers defaults it to true (which turns `a ,` into `a,`).
  const cleanUp = tokenizerConfig.clean_up_tokenization_spaces === true;
  return {
    encode(text, maxTokens) {
      const ids = tokenizer.encode(text).ids;
      if (maxTokens === undefined || ids.length <= maxTokens) return ids;
      // Keep the final id (T5's `</s>`): the tokenizer in Python truncates before adding it too.
      return [...ids.slice(0, maxTokens - 1), ids[ids.length - 1]!];
    },
    encodeText(text, addSpecialTokens) {
      return tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
    },
    decode(ids) {
      return tokenizer.decode([...ids], { skip_special_tokens: true, clean_up_tokenization_spaces: cleanUp }).trim();
    },
  };
}

/** Words remembered per tokenizer; beyond it the memo starts again (a server's vocabulary of words is bounded). */
const memoisedWords = 50_000;

/**
 * Remembers the pieces of each pre-tokenised word. The Unigram model (T5's, and the students distill
 * trains) runs a Viterbi search over a lattice of every piece of every word, which is nearly all of
 * the tokenizer's time (measured: 70 µs of CPU for an e-SNLI input, a few percent of a batch-1
 * prediction). Its `encode(words)` is the concatenation of each word's pieces, which depend on the
 * word alone, and words repeat from text to text.
 */
function memoiseWords(model: WordPieceModel): void {
  const encodeWords: (words: string[]) => string[] = model.encode.bind(model);
  let memo = new Map<string, readonly string[]>();
  model.encode = (words: string[]): string[] => {
    const pieces: string[] = [];
    for (const word of words) {
      const known = memo.get(word);
      if (known !== undefined) {
        pieces.push(...known);
        continue;
      }
      const wordPieces = encodeWords([word]);
      if (memo.size >= memoisedWords) memo = new Map();
      memo.set(word, wordPieces);
      pieces.push(...wordPieces);
    }
    return pieces;
  };
}
