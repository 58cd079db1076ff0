// The program of a PKCS#11 worker thread (started by `Pkcs11Offload`): runs the jobs of each
// message and answers them in one or a few messages (WorkerLibraries.run), their outputs and IVs
// in one transferred buffer (packResults).
import { parentPort, workerData } from 'node:worker_threads';
import { packResults } from './offload-arena';
import { WorkerLibraries } from './offload-jobs';
import type { FromWorker, ToWorker, WorkerSettings } from './offload.protocol';

const port = parentPort;
if (!port) throw new Error('pkcs11.worker runs only as a worker thread');
const { calls, replyEveryMs } = workerData as WorkerSettings;
const libraries = new WorkerLibraries();

port.on('message', (message: ToWorker) => {
  if (message.type === 'forget') {
    libraries.forget(message.library);
    return;
  }
  void libraries.run(message.jobs, calls, (results) => {
    const { results: packed, arena } = packResults(results);
    const reply: FromWorker = { results: packed };
    port.postMessage(reply, [arena]);
  }, replyEveryMs);
});
