/**
 * A WebSocket web function for the local web-mode tests: a plain `ws` server on PORT, bundled
 * with esbuild into a zip with `index.js` and `scf_bootstrap`, as a web bundle is.
 *
 * It echoes every message (binary as binary), and obeys a few text commands:
 * `env` (answers PORT, REDIS_HOST and the function's variables as JSON), `pid`, `close <code>`
 * (closes with that code), `crash` (the process exits with code 3), `big <bytes>` (sends that
 * many bytes), `quiet` (nothing). A handshake with `?refuse=<status>` is refused with that status
 * and the body `refused by the function`; the subprotocol chosen is the first offered, and the
 * welcome frame `hello <protocol>` goes out at once.
 */
import { writeFile } from 'node:fs/promises';
import { build } from 'esbuild';
import { strToU8, zipSync } from 'fflate';

const SERVER = `
const http = require('node:http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => { res.writeHead(200); res.end('web function'); });
const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => [...offered][0] ?? false });
server.on('upgrade', (req, socket, head) => {
  const refuse = new URL(req.url, 'http://x').searchParams.get('refuse');
  if (refuse) {
    const body = 'refused by the function';
    socket.end('HTTP/1.1 ' + refuse + ' Refused\\r\\nContent-Type: text/plain\\r\\nX-Refused-By: function\\r\\nContent-Length: ' + body.length + '\\r\\nConnection: close\\r\\n\\r\\n' + body);
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
});
wss.on('connection', (ws, req) => {
  console.log(JSON.stringify({ msg: 'connected', path: req.url, forwardedFor: req.headers['x-forwarded-for'] ?? null, custom: req.headers['x-custom'] ?? null }));
  ws.send('hello ' + (ws.protocol || '-'));
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    if (text === 'env') ws.send(JSON.stringify({ PORT: process.env.PORT, REDIS_HOST: process.env.REDIS_HOST ?? null, GREETING: process.env.GREETING ?? null, SCF_FUNCTIONNAME: process.env.SCF_FUNCTIONNAME }));
    else if (text === 'pid') ws.send(String(process.pid));
    else if (text.startsWith('close ')) ws.close(Number(text.slice(6)), 'asked to');
    else if (text === 'crash') { console.error('crashing as asked'); process.exit(3); }
    else if (text.startsWith('big ')) ws.send(Buffer.alloc(Number(text.slice(4)), 120).toString());
    else if (text === 'quiet') {}
    else ws.send(data, { binary: isBinary });
  });
  ws.on('close', (code) => console.log(JSON.stringify({ msg: 'closed', code })));
});
server.listen(Number(process.env.PORT || 9000), '0.0.0.0');
`;

const BOOTSTRAP = '#!/bin/bash\nexec /var/lang/node18/bin/node index.js\n';

/** Writes the echo function's zip to `file`; `greeting` replaces the welcome frame's `hello`. */
export async function writeEchoZip(file: string, options: { greeting?: string } = {}): Promise<string> {
  const source = options.greeting ? SERVER.replace("ws.send('hello ' +", `ws.send(${JSON.stringify(`${options.greeting} `)} +`) : SERVER;
  const bundled = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'js' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node18',
    write: false,
    logLevel: 'silent',
    // ws works without its optional native helpers
    external: ['bufferutil', 'utf-8-validate'],
  });
  const mtime = new Date('1980-01-01T00:00:00Z');
  const zip = zipSync({
    'index.js': [bundled.outputFiles[0].contents, { mtime }],
    scf_bootstrap: [strToU8(BOOTSTRAP), { mtime, attrs: 0o755 << 16 }],
  });
  await writeFile(file, zip);
  return file;
}
