/**
 * The README's "Write your own app" stays true: its app is the file in the repository, its config
 * entry is in config/app.json, and `npm start -- --app shout` runs it.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../config/load';

const ROOT = path.resolve(__dirname, '..', '..');

describe('README: write your own app', () => {
  it('shows the app exactly as functions/shout/app.ts holds it, named in config/app.json as shown', async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const block = /<!-- functions\/shout\/app\.ts -->\n```ts\n([\s\S]*?)```/.exec(readme);
    expect(block, 'the README has the marked code block').not.toBeNull();
    expect(block![1]).toBe(await readFile(path.join(ROOT, 'functions', 'shout', 'app.ts'), 'utf8'));
    expect(readme).toContain('"shout": { "entry": "functions/shout/app.ts" }');
    expect(loadConfig().apps.shout).toEqual({ entry: 'functions/shout/app.ts' });
  });

  it('runs with npm start -- --app shout: text is shouted to everyone, binary comes back reversed', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'readme-app-'));
    const child = spawn(
      'npm',
      [
        'start',
        '--silent',
        '--',
        '--app',
        'shout',
        '--data-dir',
        dataDir,
        '--port',
        '0',
        '--gateway-port',
        '0',
        '--cos-port',
        '0',
        '--cloud-api-port',
        '0',
        '--quiet',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, CHECKPOINT_DISABLE: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const wsUrl = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start printed no WebSocket URL within 90 s:\n${output}`)), 90_000);
        const check = () => {
          const match = /WebSocket:\s+(ws:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout.on('data', check);
        void exited.then((code) => reject(new Error(`npm start exited with ${code} before it was ready:\n${output}`)));
      });
      expect(output).toMatch(/starting shout-dev-gz locally/);

      const ws = new WebSocket(wsUrl, ['shout']);
      const received: Array<{ binary: boolean; data: Buffer }> = [];
      const next = (count: number) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`expected ${count} frame(s), got ${received.length}`)), 10_000);
          const check = () => received.length >= count && (clearTimeout(timer), resolve());
          ws.on('message', check);
          check();
        });
      ws.on('message', (data: Buffer, binary: boolean) => received.push({ binary, data }));
      await new Promise<void>((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      expect(ws.protocol).toBe('shout');
      ws.send('hello');
      await next(1);
      expect(JSON.parse(received[0]!.data.toString())).toEqual({ type: 'shout', text: 'HELLO', online: 1 });
      ws.send(Buffer.from([1, 2, 3]));
      await next(2);
      expect(received[1]).toEqual({ binary: true, data: Buffer.from([3, 2, 1]) });
      ws.close();
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGINT');
      const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 20_000))]);
      if (code === 'still running') process.kill(-child.pid!, 'SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
