/**
 * The reverse-push client: POSTs frames and close requests to the gateway's push address.
 */
import http from 'node:http';
import https from 'node:https';
import type { PushConfig } from './config';
import { describeError } from './errors';
import { logId } from './log';

/** A frame to push: text as is, binary as base64. */
export interface PushFrame {
  dataType: 'text' | 'binary';
  data: string;
}

/**
 * How one push ended. PLATFORM.md section 1: a non-200 answer is a system fault after which the
 * gateway closes that client, while the meaning of a non-zero `errNo` is undocumented.
 */
export type PushOutcome =
  | { id: string; status: 'delivered' }
  /** The gateway answered a non-200 status: it is closing that client, so the connection is gone. */
  | { id: string; status: 'gone'; httpStatus: number; error: string }
  /** HTTP 200 with a non-zero errNo: not delivered, but the connection may still be open. */
  | { id: string; status: 'refused'; errNo: number; errMsg: string }
  /** No answer we can trust (network error, timeout, a body that is not JSON): the connection may still be there. */
  | { id: string; status: 'failed'; error: string };

// One agent per push address and concurrency, kept across warm invocations so sockets are reused.
const agents = new Map<string, http.Agent>();

function agentFor(url: URL, concurrency: number): http.Agent {
  const key = `${url.protocol}//${url.host}#${concurrency}`;
  let agent = agents.get(key);
  if (!agent) {
    const Agent = url.protocol === 'https:' ? https.Agent : http.Agent;
    agent = new Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency, scheduling: 'lifo' });
    agents.set(key, agent);
  }
  return agent;
}

/** Replaces the full id in a text with its logged form. */
function redact(text: string, id: string): string {
  return id.length > 0 ? text.split(id).join(logId(id)) : text;
}

/** The `data send` request body, with the frame's data already JSON-escaped. */
function dataSendBody(id: string, dataType: PushFrame['dataType'], dataJson: string): string {
  return `{"websocket":{"action":"data send","secConnectionID":${JSON.stringify(id)},"dataType":"${dataType}","data":${dataJson}}}`;
}

/** Pushes to connections through the gateway with keep-alive sockets and bounded concurrency. */
export class PushClient {
  private readonly url: URL;
  private readonly agent: http.Agent;

  constructor(private readonly config: PushConfig) {
    this.url = new URL(config.url);
    this.agent = agentFor(this.url, config.concurrency);
  }

  /** Sends one frame to one connection. Never throws. */
  send(id: string, frame: PushFrame): Promise<PushOutcome> {
    return this.post(id, dataSendBody(id, frame.dataType, JSON.stringify(frame.data)));
  }

  /** Asks the gateway to close a connection. Never throws. */
  close(id: string): Promise<PushOutcome> {
    return this.post(id, JSON.stringify({ websocket: { action: 'closing', secConnectionID: id } }));
  }

  /** Sends the same frame to every id, at most `concurrency` requests at a time. */
  broadcast(ids: string[], frame: PushFrame): Promise<PushOutcome[]> {
    // The frame is escaped once, not once per recipient: it can be 256 KB.
    const data = JSON.stringify(frame.data);
    return this.each(ids, (id) => this.post(id, dataSendBody(id, frame.dataType, data)));
  }

  /** Asks the gateway to close every id, at most `concurrency` requests at a time. */
  closeAll(ids: string[]): Promise<PushOutcome[]> {
    return this.each(ids, (id) => this.close(id));
  }

  private async each(ids: string[], push: (id: string) => Promise<PushOutcome>): Promise<PushOutcome[]> {
    const outcomes: PushOutcome[] = new Array(ids.length);
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const i = next++;
        outcomes[i] = await push(ids[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.concurrency, ids.length) }, worker));
    return outcomes;
  }

  private post(id: string, body: string): Promise<PushOutcome> {
    const payload = Buffer.from(body);
    const transport = this.url.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      let settled = false;
      const done = (outcome: PushOutcome) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          resolve(outcome);
        }
      };
      const req = transport.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => done({ id, status: 'failed', error: describeError(err) }));
          res.on('end', () => {
            // Answers may quote the id; outcomes end up in logs, which carry only its short form.
            const text = redact(Buffer.concat(chunks).toString('utf8'), id);
            if (res.statusCode !== 200) {
              done({ id, status: 'gone', httpStatus: res.statusCode ?? 0, error: `push answered HTTP ${res.statusCode}: ${text.slice(0, 200)}` });
              return;
            }
            let answer: { errNo?: unknown; errMsg?: unknown };
            try {
              answer = JSON.parse(text);
            } catch {
              done({ id, status: 'failed', error: `push answered a body that is not JSON: ${text.slice(0, 200)}` });
              return;
            }
            const errNo = Number(answer.errNo ?? 0);
            if (errNo === 0) done({ id, status: 'delivered' });
            else done({ id, status: 'refused', errNo, errMsg: String(answer.errMsg ?? '').slice(0, 200) });
          });
        },
      );
      // A whole-request deadline: a socket timeout alone would not bound a slow trickle.
      const timer = setTimeout(() => req.destroy(new Error(`push timed out after ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
      req.on('error', (err) => done({ id, status: 'failed', error: describeError(err) }));
      req.end(payload);
    });
  }
}
