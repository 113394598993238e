/**
 * WebSocket frames (RFC 6455) seen in passing: the gateway pipes a web function's connection byte
 * for byte, and reads only the frame headers going by (and the payload of close frames), to know
 * a message's size, count activity and rates, see who closed with which code, and find the frame
 * boundaries where it may stop a stream or put a close frame of its own in.
 *
 * Payloads are never copied or unmasked (close frames aside), and extensions the two ends agreed
 * on (permessage-deflate) change nothing here: sizes are what goes over the wire.
 */

/** What a frame header says. */
export interface FrameHeader {
  fin: boolean;
  /** Set on the first frame of a compressed message (permessage-deflate). */
  rsv1: boolean;
  opcode: number;
  /** Payload length in bytes. */
  length: number;
  /** Bytes of the header itself (2 to 14). */
  headerLength: number;
}

export const Opcode = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/**
 * What to do with the frame whose header was just read: `pass` it on; `stop` the stream before
 * it (nothing from it on is forwarded; see {@link FrameScanner.seal}); or `hold` it and everything
 * after, unscanned, to be scanned again later (a throttle).
 */
export type Verdict = 'pass' | 'stop' | 'hold';

export interface ScannerHooks {
  /** Every header, before any of its frame is forwarded. Not called once the stream is sealed. */
  onHeader(header: FrameHeader): Verdict;
  /** A complete close frame: its code (undefined for none, seen as 1005) and reason. Called sealed or not. */
  onClose(code: number | undefined, reason: string): void;
}

/** What one {@link FrameScanner.scan} gives. */
export interface ScanResult {
  /** Bytes to forward, in order (slices of the input, not copies). */
  forward: Buffer[];
  /** After a `hold`: the bytes from the held frame's header on, to scan again. */
  held?: Buffer;
  /** The stream was sealed during this scan: the caller may now write a frame of its own. */
  sealed?: boolean;
}

const EMPTY = Buffer.alloc(0);
const MAX_CLOSE_PAYLOAD = 125;

/** One direction of a connection. */
export class FrameScanner {
  readonly #hooks: ScannerHooks;
  /** Bytes of a header not yet complete: never forwarded before the header has been judged. */
  #pending: Buffer = EMPTY;
  /** Payload bytes of the current frame still to come. */
  #payloadLeft = 0;
  #mask: Buffer | undefined;
  /** Collected (unmasked) payload of a close frame in progress. */
  #close: number[] | undefined;
  #payloadOffset = 0;
  /** Nothing more is forwarded; frames are still read, for the close frame that answers ours. */
  #sealed = false;
  #sealAfterFrame = false;

  constructor(hooks: ScannerHooks) {
    this.#hooks = hooks;
  }

  /** Between frames: what was forwarded so far ends with a whole frame. */
  get atBoundary(): boolean {
    return this.#payloadLeft === 0;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  /**
   * Stops forwarding at the next frame boundary: now, returning true, when the stream is between
   * frames; otherwise once the current frame has been forwarded, which the {@link ScanResult}
   * of that scan reports as `sealed`.
   */
  seal(): boolean {
    if (this.#sealed) return true;
    if (this.atBoundary) {
      this.#sealed = true;
      return true;
    }
    this.#sealAfterFrame = true;
    return false;
  }

  /** Reads a chunk; see {@link ScanResult}. */
  scan(chunk: Buffer): ScanResult {
    const data = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    this.#pending = EMPTY;
    const result: ScanResult = { forward: [] };
    let from = 0;
    let pos = 0;
    const flush = (to: number) => {
      if (!this.#sealed && to > from) result.forward.push(data.subarray(from, to));
      from = to;
    };
    const frameEnded = () => {
      if (this.#close) {
        const payload = Buffer.from(this.#close);
        this.#close = undefined;
        this.#hooks.onClose(payload.length >= 2 ? payload.readUInt16BE(0) : undefined, payload.subarray(2).toString('utf8'));
      }
      if (this.#sealAfterFrame && !this.#sealed) {
        flush(pos);
        this.#sealAfterFrame = false;
        this.#sealed = true;
        result.sealed = true;
      }
    };
    while (pos < data.length) {
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, data.length - pos);
        if (this.#close) this.#collect(data, pos, take);
        pos += take;
        this.#payloadLeft -= take;
        if (this.#payloadLeft === 0) frameEnded();
        continue;
      }
      const header = readHeader(data, pos);
      if (!header) {
        flush(pos);
        // copied: the chunk it came in is not kept
        this.#pending = Buffer.from(data.subarray(pos));
        return result;
      }
      if (!this.#sealed) {
        const verdict = this.#hooks.onHeader(header);
        if (verdict === 'hold') {
          flush(pos);
          result.held = data.subarray(pos);
          return result;
        }
        if (verdict === 'stop') {
          flush(pos);
          this.#sealed = true;
          this.#sealAfterFrame = false;
          result.sealed = true;
        }
      }
      const masked = (data[pos + 1] & 0x80) !== 0;
      this.#mask = masked ? Buffer.from(data.subarray(pos + header.headerLength - 4, pos + header.headerLength)) : undefined;
      pos += header.headerLength;
      this.#payloadLeft = header.length;
      this.#payloadOffset = 0;
      this.#close = header.opcode === Opcode.CLOSE ? [] : undefined;
      if (header.length === 0) frameEnded();
    }
    flush(pos);
    return result;
  }

  #collect(data: Buffer, pos: number, take: number): void {
    const close = this.#close!;
    for (let i = 0; i < take && close.length < MAX_CLOSE_PAYLOAD; i++) {
      const byte = data[pos + i];
      close.push(this.#mask ? byte ^ this.#mask[(this.#payloadOffset + i) & 3] : byte);
    }
    this.#payloadOffset += take;
  }
}

/** The header starting at `pos`, or undefined when not all of it is there yet. */
export function readHeader(data: Buffer, pos: number): FrameHeader | undefined {
  if (data.length - pos < 2) return undefined;
  const b0 = data[pos];
  const b1 = data[pos + 1];
  const len7 = b1 & 0x7f;
  const extended = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const headerLength = 2 + extended + (b1 & 0x80 ? 4 : 0);
  if (data.length - pos < headerLength) return undefined;
  let length = len7;
  if (len7 === 126) length = data.readUInt16BE(pos + 2);
  else if (len7 === 127) length = Number(data.readBigUInt64BE(pos + 2));
  return { fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, length, headerLength };
}

/**
 * A close frame: unmasked as a server sends it (to the client), or masked with a random key as a
 * client must (to the instance). The reason is cut to fit 123 bytes.
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  let text = Buffer.from(reason, 'utf8');
  if (text.length > 123) text = text.subarray(0, 123);
  const payload = Buffer.alloc(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);
  const mask = Buffer.from([0, 1, 2, 3].map(() => Math.floor(Math.random() * 256)));
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload]);
}
