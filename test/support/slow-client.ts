/**
 * A client that trickles a request over a raw TCP socket, as a slow-loris attacker does, to check
 * that a server cuts it.
 */
import net from 'node:net';

export interface TrickleResult {
  /** What the server wrote before closing (e.g. a 408 answer), as latin1 text. */
  answer: string;
  /** Lines of the request written before the server closed. */
  linesWritten: number;
}

/**
 * Writes `start` at once, then one more `line` every `everyMs` without ever ending the request,
 * until the server closes the socket. Rejects, saying so, if it is still open after `failAfterMs`.
 */
export function trickle(port: number, options: { start: string; line: string; everyMs?: number; failAfterMs?: number; host?: string }): Promise<TrickleResult> {
  const { start, line, everyMs = 50, failAfterMs = 10_000, host = '127.0.0.1' } = options;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    const chunks: Buffer[] = [];
    let linesWritten = 0;
    let ticker: NodeJS.Timeout | undefined;
    const bound = setTimeout(() => {
      clearInterval(ticker);
      socket.destroy();
      reject(new Error(`the server still held a trickling request after ${failAfterMs} ms (${linesWritten} lines written)`));
    }, failAfterMs);
    socket.on('connect', () => {
      socket.write(start);
      ticker = setInterval(() => {
        if (socket.writable) {
          socket.write(line);
          linesWritten++;
        }
      }, everyMs);
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    // A write racing the server's close may fail: the close is what is waited for.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(ticker);
      clearTimeout(bound);
      resolve({ answer: Buffer.concat(chunks).toString('latin1'), linesWritten });
    });
  });
}
