/**
 * Turns a worker's stdout/stderr chunks into whole lines, so each line can carry its prefix.
 */
import type { Readable } from 'node:stream';

export type Stream = 'stdout' | 'stderr';

/** Longest line kept whole; a longer run without a newline is cut, so a runaway write cannot grow memory. */
const MAX_LINE_CHARS = 64 * 1024;

export class LineSplitter {
  #partial = '';
  readonly #emit: (line: string) => void;

  constructor(emit: (line: string) => void) {
    this.#emit = emit;
  }

  /** Adds a chunk; emits every line it completes. */
  push(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop()!;
    for (const part of parts) this.#emit(part.endsWith('\r') ? part.slice(0, -1) : part);
    while (this.#partial.length > MAX_LINE_CHARS) {
      this.#emit(this.#partial.slice(0, MAX_LINE_CHARS));
      this.#partial = this.#partial.slice(MAX_LINE_CHARS);
    }
  }

  /** Emits what is left without a newline. */
  flush(): void {
    if (this.#partial) this.#emit(this.#partial);
    this.#partial = '';
  }
}

/** Reads a stream as UTF-8 lines until it ends. Returns the splitter, to flush at a boundary. */
export function readLines(stream: Readable, emit: (line: string) => void): LineSplitter {
  const splitter = new LineSplitter(emit);
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => splitter.push(chunk));
  stream.on('end', () => splitter.flush());
  return splitter;
}
