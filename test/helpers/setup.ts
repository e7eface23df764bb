/** Shared test setup: the plain CPU backend, quiet. */
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '../../src/tf.js';

export async function usePlainCpu(): Promise<void> {
  await tf.setBackend('cpu');
  tf.env().set('PROD', true);
}

export { tf };
