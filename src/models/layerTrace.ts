/**
 * What K-FAC needs to see of a forward/backward pass: each covered layer's input activations `a`
 * and the gradient of the loss w.r.t. its pre-activations `s = W a + b` (Martens & Grosse 2015, sec. 3).
 *
 * Inputs are recorded on the forward pass; pre-activation gradients are captured by an identity op
 * whose custom gradient stores the incoming `dy`, so a single ordinary backward pass yields them.
 */
import { tf, type Tensor } from '../tf.js';

/** Which layers a trace records: all, none, or the named ones. */
export type Recording = boolean | ReadonlySet<string>;

function records(recording: Recording, layer: string): boolean {
  return typeof recording === 'boolean' ? recording : recording.has(layer);
}

export class LayerTrace {
  readonly inputs = new Map<string, Tensor>();
  readonly preActivationGrads = new Map<string, Tensor>();

  constructor(
    readonly recordInputs: Recording,
    readonly recordPreActivationGrads: Recording,
  ) {}

  /** Whether this trace records dL/ds of `layer` (a fused layer then takes the unfused path). */
  recordsPreActivationGrad(layer: string): boolean {
    return records(this.recordPreActivationGrads, layer);
  }

  recordInput(layer: string, a: Tensor): void {
    if (!records(this.recordInputs, layer)) return;
    this.inputs.get(layer)?.dispose();
    this.inputs.set(layer, tf.keep(a.clone()));
  }

  /** Identity on the forward pass; on the backward pass stores dL/ds for `layer`. */
  tapPreActivation(layer: string, s: Tensor): Tensor {
    if (!records(this.recordPreActivationGrads, layer)) return s;
    const identity = tf.customGrad((...args) => ({
      value: (args[0] as Tensor).clone(),
      gradFunc: (dy: Tensor) => {
        this.preActivationGrads.get(layer)?.dispose();
        this.preActivationGrads.set(layer, tf.keep(dy.clone()));
        return dy;
      },
    }));
    return identity(s);
  }

  /** Takes over a tensor as a layer's record (a micro-batched pass puts its pieces back together). */
  adopt(record: 'inputs' | 'preActivationGrads', layer: string, t: Tensor): void {
    const map = this[record];
    map.get(layer)?.dispose();
    map.set(layer, tf.keep(t));
  }

  dispose(): void {
    for (const t of this.inputs.values()) t.dispose();
    for (const t of this.preActivationGrads.values()) t.dispose();
    this.inputs.clear();
    this.preActivationGrads.clear();
  }
}
