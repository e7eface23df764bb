"""PyTorch reference for the K-FAC step: the same K-FAC NGD step as ngd-bench's `ngd`, written for timing.

Usage: python3 bench/torch_kfac.py '<json list of {"model","batchSize","iterations","factorInterval","inverseInterval"}>'
Prints one JSON object: {"torch": version, "threads": n, "rows": [{model, batchSize, factorInterval,
inverseInterval, meanMs, medianMs, samples}]}.

What it computes per step, as src/optim/kfac does (Martens & Grosse 2015; KFC, Grosse & Martens 2016):
- loss and gradients of the mini-batch; on factor steps, the MC Fisher's output gradients from labels
  sampled from the model's own predictive distribution (torch.autograd.grad on the saved
  pre-activations: no second forward pass);
- per dense/conv layer the Kronecker factors A = E[a a^T] (inputs with a ones column for the bias; a
  conv layer's patches via unfold, averaged over locations) and G = E[g g^T], folded into an EMA;
- on inverse steps, factored Tikhonov damping with the pi-correction, inverted in float64 by Cholesky;
- the preconditioned gradient G^-1 dW A^-1, KL-clipping (Ba et al. 2017) and momentum SGD.
Its numbers are not ngd-bench's bit for bit (NCHW, another BLAS path); it is the same work, for the
side-by-side time.
"""
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_step import make  # noqa: E402  (the same networks as the SGD rows)

DAMPING = 1e-3
EMA_DECAY = 0.95
KL_CLIP = 1e-3
LR = 0.01
MOMENTUM = 0.9


class Kfac:
    def __init__(self, net, factor_interval, inverse_interval):
        self.net = net
        self.layers = [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
        self.factor_interval = factor_interval
        self.inverse_interval = inverse_interval
        self.inputs = {}
        self.outputs = {}
        self.a = {}
        self.g = {}
        self.a_inv = {}
        self.g_inv = {}
        self.velocity = {p: torch.zeros_like(p) for p in net.parameters()}
        self.record = False
        for layer in self.layers:
            layer.register_forward_hook(self._save)

    def _save(self, layer, inputs, output):
        if self.record:
            self.inputs[layer] = inputs[0].detach()
            self.outputs[layer] = output

    def _a_factor(self, layer):
        x = self.inputs[layer]
        if isinstance(layer, nn.Conv2d):
            patches = F.unfold(x, layer.kernel_size, padding=layer.padding, stride=layer.stride)  # [B, k, L]
            x = patches.transpose(1, 2).reshape(-1, patches.shape[1])
        x = torch.cat([x, torch.ones(x.shape[0], 1)], dim=1)
        return x.t() @ x / x.shape[0]

    def _g_factor(self, layer, grad):
        if isinstance(layer, nn.Conv2d):
            grad = grad.permute(0, 2, 3, 1).reshape(-1, grad.shape[1])
        return grad.t() @ grad / grad.shape[0]

    def step(self, x, y, step):
        factors = step % self.factor_interval == 0
        self.record = factors
        logits = self.net(x)
        self.record = False
        loss = F.cross_entropy(logits, y)
        if factors:
            with torch.no_grad():
                sampled = torch.multinomial(F.softmax(logits, dim=1), 1).squeeze(1)
            outputs = [self.outputs[layer] for layer in self.layers]
            # Output gradients of the sampled-label loss, summed over the batch (scaled by B for G).
            grads = torch.autograd.grad(F.cross_entropy(logits, sampled, reduction="sum"), outputs, retain_graph=True)
            for layer, grad in zip(self.layers, grads):
                a_new = self._a_factor(layer)
                g_new = self._g_factor(layer, grad)
                if layer in self.a:
                    self.a[layer].mul_(EMA_DECAY).add_(a_new, alpha=1 - EMA_DECAY)
                    self.g[layer].mul_(EMA_DECAY).add_(g_new, alpha=1 - EMA_DECAY)
                else:
                    self.a[layer], self.g[layer] = a_new, g_new
            self.outputs.clear()
            self.inputs.clear()
        self.net.zero_grad(set_to_none=True)
        loss.backward()
        if step % self.inverse_interval == 0:
            for layer in self.layers:
                a = self.a[layer].double()
                g = self.g[layer].double()
                a = (a + a.t()) / 2
                g = (g + g.t()) / 2
                pi = math.sqrt((a.trace() / a.shape[0]) / (g.trace() / g.shape[0]))
                root = math.sqrt(DAMPING)
                eye_a = torch.eye(a.shape[0], dtype=torch.float64)
                eye_g = torch.eye(g.shape[0], dtype=torch.float64)
                self.a_inv[layer] = torch.cholesky_inverse(torch.linalg.cholesky(a + pi * root * eye_a)).float()
                self.g_inv[layer] = torch.cholesky_inverse(torch.linalg.cholesky(g + root / pi * eye_g)).float()
        directions = {}
        vg = 0.0
        with torch.no_grad():
            for layer in self.layers:
                w = layer.weight.grad.reshape(layer.weight.shape[0], -1)
                grad = torch.cat([w, layer.bias.grad.unsqueeze(1)], dim=1)  # [out, in + 1]
                direction = self.g_inv[layer] @ grad @ self.a_inv[layer]
                directions[layer] = direction
                vg += float((direction * grad).sum()) * LR * LR
            scale = min(1.0, math.sqrt(KL_CLIP / vg)) if vg > 0 else 1.0
            for layer in self.layers:
                d = directions[layer] * scale
                for p, part in ((layer.weight, d[:, :-1].reshape(layer.weight.shape)), (layer.bias, d[:, -1])):
                    v = self.velocity[p]
                    v.mul_(MOMENTUM).add_(part)
                    p.sub_(v, alpha=LR)
        return loss.item()


def time_steps(model_name, batch, iterations, factor_interval, inverse_interval):
    torch.manual_seed(0)
    net = make(model_name)
    kfac = Kfac(net, factor_interval, inverse_interval)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    kfac.step(x, y, 0)  # warm-up: the first factors and inversion, as ngd-bench's bench excludes them
    samples = []
    for i in range(iterations):
        t0 = time.perf_counter()
        kfac.step(x, y, i + 1)
        samples.append((time.perf_counter() - t0) * 1000)
    return {"model": model_name, "batchSize": batch, "factorInterval": factor_interval, "inverseInterval": inverse_interval,
            "meanMs": statistics.fmean(samples), "medianMs": statistics.median(samples), "samples": len(samples)}


def main():
    cases = json.loads(sys.argv[1])
    torch.set_num_threads(os.cpu_count() or 1)
    rows = [time_steps(c["model"], c["batchSize"], c["iterations"], c["factorInterval"], c["inverseInterval"]) for c in cases]
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": rows}))


if __name__ == "__main__":
    main()
