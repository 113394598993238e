/**
 * The floor: a plain `ws` server that does what the chat does with nothing in between. Each text
 * frame is sent to every other client and acknowledged to the sender.
 */
import { WebSocketServer, type WebSocket } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
wss.on('connection', (ws: WebSocket) => {
  ws.on('message', (data, isBinary) => {
    let delivered = 0;
    for (const other of wss.clients) {
      if (other !== ws && other.readyState === other.OPEN) {
        other.send(data, { binary: isBinary });
        delivered++;
      }
    }
    ws.send(JSON.stringify({ type: 'ack', online: wss.clients.size, delivered }));
  });
});
wss.on('listening', () => {
  const address = wss.address() as { port: number };
  console.log(`listening ws://127.0.0.1:${address.port}/`);
});
process.on('SIGINT', () => wss.close(() => process.exit(0)));
