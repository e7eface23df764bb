/**
 * KL-clipping of the natural-gradient step (Ba, Grosse & Martens 2017, sec. 5): scale the
 * preconditioned gradient v by nu = min(1, sqrt(kappa / (lr^2 * sum_l v_l . g_l))), bounding the
 * predicted change of the model's output distribution.
 */
export function klClipScale(vDotG: number, lr: number, bound: number | null): number {
  if (bound === null || !(vDotG > 0)) return 1;
  return Math.min(1, Math.sqrt(bound / (lr * lr * vDotG)));
}
