/**
 * The chat's client: the harness's {@link TestClient} plus the chat's envelopes (functions/chat/
 * protocol.ts): requests that wait for their answer, and what was received, by room.
 */
import type { User } from '../../functions/lib/users';
import { CodedError } from '../../lib/errors';
import { TestClient, type ConnectOptions } from '../harness/client';

export { HandshakeRefused, type Received } from '../harness/client';
export type { User };

/** A JSON envelope as received. */
export type Envelope = Record<string, any>;

/** The gateway's per-connection rate (local/gateway/limits.ts, as API Gateway documents it). */
const MESSAGES_PER_SECOND = 10;

/** What a join answers: `joined`, then the room's `history`. */
export interface JoinAnswer {
  joined: Envelope;
  history: Envelope;
}

/** The chat answered a request with `{"type":"error"}`: its `code` (NOT_IN_ROOM, BAD_ROOM, …) and the envelope. */
export class ChatRefused extends CodedError<string> {
  constructor(readonly envelope: Envelope) {
    super(String(envelope.code), `the chat refused: ${envelope.code}: ${envelope.message}`);
  }
}

export class ChatClient extends TestClient {
  /**
   * Who this connection is, when known: from the last `joined` (its `you`) or `profile` answer, or
   * set by whoever connected it with admission claims.
   */
  user?: User;
  /** When this client's last frames went out (ms), for {@link pace}. */
  private sentAt: number[] = [];

  /**
   * Connects offering `protocols` (default `["chat"]`), or with the harness's options; rejects with
   * {@link HandshakeRefused} when the gateway refuses.
   */
  static override connect(url: string, protocols: string[] | ConnectOptions = ['chat'], timeoutMs?: number): Promise<ChatClient> {
    const options: ConnectOptions = Array.isArray(protocols) ? { protocols, timeoutMs } : { protocols: ['chat'], ...protocols };
    return TestClient.open(url, options, (ws) => new ChatClient(ws));
  }

  /** Chat messages received live (envelopes of type "message"), of every room or of `room`. */
  messages(room?: string): Envelope[] {
    return this.json((m) => m?.type === 'message' && (room === undefined || m.room === room));
  }

  /** Envelopes of one type received, of every room or of `room`. */
  of(type: string, room?: string): Envelope[] {
    return this.json((m) => m?.type === type && (room === undefined || m.room === room));
  }

  /** Every envelope that names `room` (joined, history, message, ack, presence, left), in arrival order. */
  inRoom(room: string): Envelope[] {
    return this.json((m) => m?.room === room);
  }

  /** The room's presence envelopes, in arrival order. */
  presence(room: string): Envelope[] {
    return this.of('presence', room);
  }

  /**
   * What the room said as this connection saw it: history entries and live messages in arrival
   * order, each id once (a message racing a join arrives both ways).
   */
  seen(room: string): Envelope[] {
    const ids = new Set<string>();
    const out: Envelope[] = [];
    for (const m of this.json((e) => e?.room === room && (e.type === 'message' || e.type === 'history'))) {
      for (const message of m.type === 'history' ? (m.messages as Envelope[]) : [m]) {
        if (ids.has(message.id)) continue;
        ids.add(message.id);
        out.push(message);
      }
    }
    return out;
  }

  /** The newest message id this connection saw in `room` (ids sort in time order), for a later `join(room, since)`. */
  lastId(room: string): string | undefined {
    return this.seen(room)
      .map((m) => m.id as string)
      .sort()
      .at(-1);
  }

  /** Direct messages received. */
  directs(): Envelope[] {
    return this.of('direct');
  }

  /** Error envelopes received. */
  errors(): Envelope[] {
    return this.of('error');
  }

  /**
   * Sends without waiting: a string as a chat message to the lobby (`{"type":"message","text":...}`),
   * an object as JSON (any request, well formed or not), bytes as a binary frame.
   */
  override send(data: string | Uint8Array | object): void {
    this.sentAt.push(Date.now());
    super.send(typeof data === 'string' ? { type: 'message', text: data } : data);
  }

  /**
   * Waits until one more frame keeps this connection under the gateway's 10 messages/s (a frame
   * over it closes the connection with 1008), so a test may make requests back to back.
   */
  async pace(perSecond = MESSAGES_PER_SECOND): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.sentAt = this.sentAt.filter((t) => t > now - 1000);
      // One short of the limit: the gateway's clock and ours do not start the second together.
      if (this.sentAt.length < perSecond - 1) return;
      await new Promise((r) => setTimeout(r, this.sentAt[0]! + 1000 - now + 5));
    }
  }

  /**
   * Joins `room` (with `since`, asks for what it said after that message id); resolves with
   * `joined` and `history`, and keeps `joined.you` in {@link user}.
   */
  async join(room: string, since?: string): Promise<JoinAnswer> {
    await this.pace();
    const from = this.received.length;
    this.send({ type: 'join', room, ...(since !== undefined ? { since } : {}) });
    const joined = await this.answer(from, `joined ${room}`, (m) => m.type === 'joined' && m.room === room);
    const history = await this.answer(from, `the history of ${room}`, (m) => m.type === 'history' && m.room === room);
    if (joined.you) this.user = joined.you;
    return { joined, history };
  }

  /** Leaves `room`; resolves with `left`. */
  leave(room: string): Promise<Envelope> {
    return this.request({ type: 'leave', room }, `left ${room}`, (m) => m.type === 'left' && m.room === room);
  }

  /** Says `text` in `room`; resolves with the ack (its `id` is the message's). */
  say(room: string, text: string): Promise<Envelope> {
    return this.request({ type: 'message', room, text }, `the ack of "${text.slice(0, 40)}" in ${room}`, (m) => m.type === 'ack' && m.room === room);
  }

  /** Sets this connection's display name; resolves with the `profile` answer and keeps its user in {@link user}. */
  async profile(name: string): Promise<Envelope> {
    const answer = await this.request({ type: 'profile', name }, `the profile "${name}"`, (m) => m.type === 'profile');
    this.user = answer.user;
    return answer;
  }

  /** Sends `text` to every connection of user `to`; resolves with the ack (`to`, `delivered`). */
  direct(to: string, text: string): Promise<Envelope> {
    return this.request({ type: 'direct', to, text }, `the ack of the direct message to ${to}`, (m) => m.type === 'ack' && m.to === to);
  }

  /**
   * Sends `request` as JSON (paced) and resolves with the first envelope after it that `accepts`,
   * or rejects with a {@link ChatRefused} when an error envelope comes first. Errors carry no
   * request id: make one request at a time per client.
   * @example await client.request({ type: 'join' }, 'an answer', () => false) // rejects: BAD_REQUEST
   */
  async request(request: object, what: string, accepts: (m: Envelope) => boolean): Promise<Envelope> {
    await this.pace();
    const from = this.received.length;
    this.send(request);
    return this.answer(from, what, accepts);
  }

  /** The first envelope from index `from` on that `accepts`, or a {@link ChatRefused} for an error envelope that came first. */
  private async answer(from: number, what: string, accepts: (m: Envelope) => boolean): Promise<Envelope> {
    const found = await this.waitFor(what, () =>
      this.received.slice(from).find((r) => r.json !== undefined && r.json !== null && (r.json.type === 'error' || accepts(r.json))),
    );
    if (found.json.type === 'error' && !accepts(found.json)) throw new ChatRefused(found.json);
    return found.json;
  }
}
