/**
 * Weights moved to w + d for one pass and put back afterwards from a saved copy (not w + d - d, which
 * floating point would not undo exactly): what loss smoothing and sharpness-aware steps share.
 */
import { tf, type Tensor, type Variable } from '../tf.js';

export class DisplacedWeights {
  private readonly saved: Tensor[];
  private restored = false;

  /** `displacement(p, i)` is d for parameter i; it runs inside a tidy scope. */
  constructor(
    private readonly params: readonly Variable[],
    displacement: (param: Variable, index: number) => Tensor,
  ) {
    this.saved = params.map((p) => tf.keep(p.clone()));
    params.forEach((p, i) => {
      const moved = tf.tidy(() => tf.add(p, displacement(p, i)));
      p.assign(moved);
      moved.dispose();
    });
  }

  /** Idempotent, so error paths may call it again. */
  restore(): void {
    if (this.restored) return;
    this.restored = true;
    this.params.forEach((p, i) => {
      p.assign(this.saved[i]);
    });
    for (const t of this.saved) t.dispose();
    this.saved.length = 0;
  }
}
