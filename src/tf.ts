/**
 * The single import point for TensorFlow.js core. Every compute module imports `tf` from here so
 * that gradients are registered once and whatever backend `selectBackend` activates is the one used.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's own gradient-registration module is ESM without file extensions, which Node cannot
// load; the umbrella package's Node bundle registers every op gradient (and the CPU backend) globally.
import '@tensorflow/tfjs';

export { tf };
export type Tensor = tf.Tensor;
export type Variable = tf.Variable;
