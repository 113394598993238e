/**
 * Inside the COS store's worker thread: runs a CosServer and answers the owning thread's requests.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CosServer, type CosServerOptions } from './server';

type Request = { id: number; op: 'start' | 'stop' } | { id: number; op: 'createBucket'; name: string };

const server = new CosServer(workerData as CosServerOptions);
parentPort!.on('message', (request: Request) => {
  const run = async () => {
    if (request.op === 'start') {
      await server.start();
      return { port: server.port, endpoint: server.endpoint, domain: server.domain };
    }
    if (request.op === 'createBucket') return server.createBucket(request.name);
    return server.stop();
  };
  run().then(
    (value) => parentPort!.postMessage({ id: request.id, ok: true, value }),
    (err: Error & { code?: string }) => parentPort!.postMessage({ id: request.id, ok: false, message: err.message, code: err.code }),
  );
});
