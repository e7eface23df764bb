"""PyTorch reference for the training-step benchmark: the same mlp / cnn / 2c2d, momentum SGD, same shapes.

Usage: python3 bench/torch_step.py '<json list of {"model","batchSize","iterations"}>'
Prints one JSON object: {"torch": version, "threads": n, "blas": ..., "rows": [{model, batchSize, meanMs, medianMs, samples}]}.
"""
import json
import os
import re
import statistics
import sys
import time

import torch
import torch.nn as nn


def make(model):
    if model == "2c2d":  # DeepOBS's fmnist_2c2d (src/models/deepobs.ts): 'same' convs, pools 28 -> 14 -> 7
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Linear(1024, 10),
        )
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 128), nn.ReLU(), nn.Linear(128, 10),
    )


def time_steps(model_name, batch, iterations):
    torch.manual_seed(0)
    net = make(model_name)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up
    samples = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
    return {"model": model_name, "batchSize": batch, "meanMs": statistics.fmean(samples),
            "medianMs": statistics.median(samples), "samples": len(samples)}


def main():
    cases = json.loads(sys.argv[1])
    # Same cores as our side: every core of the machine (the Debian build may default to one thread).
    torch.set_num_threads(os.cpu_count() or 1)
    rows = [time_steps(c["model"], c["batchSize"], c["iterations"]) for c in cases]
    config = torch.__config__.show()
    match = re.search(r"BLAS_INFO=([^,]+)", config)
    blas = match.group(1) if match else "unknown"
    if "USE_MKLDNN=ON" in config:
        blas += " + oneDNN"
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas, "rows": rows}))


if __name__ == "__main__":
    main()
