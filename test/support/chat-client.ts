/**
 * The chat's client: the harness's {@link TestClient} plus the chat's envelopes.
 */
import { TestClient, type ConnectOptions } from '../harness/client';

export { HandshakeRefused, type Received } from '../harness/client';

export class ChatClient extends TestClient {
  /**
   * Connects offering `protocols` (default `["chat"]`), or with the harness's options; rejects with
   * {@link HandshakeRefused} when the gateway refuses.
   */
  static override connect(url: string, protocols: string[] | ConnectOptions = ['chat'], timeoutMs?: number): Promise<ChatClient> {
    const options: ConnectOptions = Array.isArray(protocols) ? { protocols, timeoutMs } : { protocols: ['chat'], ...protocols };
    return TestClient.open(url, options, (ws) => new ChatClient(ws));
  }

  /** Chat messages received (JSON envelopes of type "message"). */
  messages(): Array<Record<string, any>> {
    return this.of('message');
  }

  /** Envelopes of one type received. */
  of(type: string): Array<Record<string, any>> {
    return this.json((m) => m?.type === type);
  }

  /** Sends `text` as a chat message (`{"type":"message","text":...}`). */
  override send(text: string): void {
    super.send({ type: 'message', text });
  }
}
