import { describe, expect, it } from 'vitest';
import { ErrNo } from '../../functions/lib/errors';
import { parseClosingEvent, parseConnectingEvent, parseDataEvent } from '../../functions/lib/event';

const context = { serviceId: 'service-abc', path: '/', httpMethod: 'GET', requestId: 'r-1', sourceIp: '10.0.2.14', stage: 'release', websocketEnable: true };

function errNoOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { errNo?: number }).errNo;
  }
  return undefined;
}

describe('parseConnectingEvent', () => {
  it('accepts the documented event and keeps unknown requestContext fields', () => {
    const event = {
      requestContext: { ...context, somethingNew: 42 },
      websocket: { action: 'connecting', secConnectionID: 'ab+/cd==', secWebSocketProtocol: 'chat,binary', secWebSocketExtensions: 'permessage-deflate' },
    };
    const parsed = parseConnectingEvent(event);
    expect(parsed.websocket.secConnectionID).toBe('ab+/cd==');
    expect(parsed.websocket.secWebSocketProtocol).toBe('chat,binary');
    expect(parsed.requestContext.somethingNew).toBe(42);
  });

  it('answers 101 without requestContext and 102 without websocket, as the samples do', () => {
    expect(errNoOf(() => parseConnectingEvent({ websocket: { action: 'connecting', secConnectionID: 'x' } }))).toBe(ErrNo.NO_REQUEST_CONTEXT);
    expect(errNoOf(() => parseConnectingEvent({ requestContext: context }))).toBe(ErrNo.NO_WEBSOCKET);
    expect(errNoOf(() => parseConnectingEvent(null))).toBe(ErrNo.NO_REQUEST_CONTEXT);
    expect(errNoOf(() => parseConnectingEvent('nope'))).toBe(ErrNo.NO_REQUEST_CONTEXT);
  });

  it('refuses a missing id, a wrong action and a non-string protocol with 103 and a reason', () => {
    expect(() => parseConnectingEvent({ requestContext: context, websocket: { action: 'connecting' } })).toThrow(/secConnectionID/);
    expect(() => parseConnectingEvent({ requestContext: context, websocket: { action: 'closing', secConnectionID: 'x' } })).toThrow(/"connecting"/);
    expect(
      errNoOf(() => parseConnectingEvent({ requestContext: context, websocket: { action: 'connecting', secConnectionID: 'x', secWebSocketProtocol: 5 } })),
    ).toBe(ErrNo.MALFORMED_EVENT);
  });
});

describe('parseDataEvent', () => {
  it('accepts "data send" and the older "data recv"', () => {
    for (const action of ['data send', 'data recv']) {
      const parsed = parseDataEvent({ websocket: { action, secConnectionID: 'a', dataType: 'text', data: 'hi' } });
      expect(parsed.websocket.data).toBe('hi');
      expect(parsed.websocket.dataType).toBe('text');
    }
  });

  it('accepts binary frames as base64 and refuses binary that is not base64', () => {
    const data = Buffer.from([0, 1, 2, 255]).toString('base64');
    expect(parseDataEvent({ websocket: { action: 'data send', secConnectionID: 'a', dataType: 'binary', data } }).websocket.data).toBe(data);
    expect(() => parseDataEvent({ websocket: { action: 'data send', secConnectionID: 'a', dataType: 'binary', data: 'not base64!' } })).toThrow(/base64/);
  });

  it('refuses unknown data types, non-string data and missing fields', () => {
    expect(() => parseDataEvent({ websocket: { action: 'data send', secConnectionID: 'a', dataType: 'json', data: '' } })).toThrow(/dataType/);
    expect(() => parseDataEvent({ websocket: { action: 'data send', secConnectionID: 'a', dataType: 'text', data: { x: 1 } } })).toThrow(
      /data must be a string/,
    );
    expect(errNoOf(() => parseDataEvent({}))).toBe(ErrNo.NO_WEBSOCKET);
    expect(errNoOf(() => parseDataEvent({ websocket: { action: 'data send', dataType: 'text', data: '' } }))).toBe(ErrNo.MALFORMED_EVENT);
  });
});

describe('parseClosingEvent', () => {
  it('accepts the closing event and refuses others', () => {
    expect(parseClosingEvent({ websocket: { action: 'closing', secConnectionID: 'z' } }).websocket.secConnectionID).toBe('z');
    expect(() => parseClosingEvent({ websocket: { action: 'connecting', secConnectionID: 'z' } })).toThrow(/closing/);
    expect(errNoOf(() => parseClosingEvent({ requestContext: {} }))).toBe(ErrNo.NO_WEBSOCKET);
  });
});
