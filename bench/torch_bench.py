#!/usr/bin/python3
"""PyTorch side of `make bench`: the same workloads as bench/train.c and bench/input.c.

    /usr/bin/python3 bench/torch_bench.py WORKLOAD [--steps N] [--warmup N] [--layout nchw|cl|best]
                                          [--threads N] [--pngs FILE]

Debian's python3-torch (1.13, oneDNN for conv), torch.set_num_threads(--threads, default 2); run it
in the environment bench/run.sh sets (OPENBLAS_CORETYPE=SkylakeX, OPENBLAS_NUM_THREADS=2,
OMP_WAIT_POLICY=passive, MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_=1e9: PyTorch's best on this
machine). One workload per process; the last stdout line is "RESULT <workload> <value> <unit>".

Models as bench/train.c: the seed CNN (Conv2d 5x5 'same' 32 relu, MaxPool 2, Conv2d 5x5 'same' 64
relu, MaxPool 2, Linear 3136-1024 relu, Dropout 0.4, Linear 1024-10) and the MLP 784-512-256-10,
CrossEntropyLoss, batch 100, 10 batches of uniform [0, 1) images and random labels in memory; SGD
lr 0.01, Adam lr 1e-4. For CNN workloads `--layout best` (the default) measures NCHW and
channels_last in the same process and reports the faster (both are printed on stderr).
  cnn_train_sgd, cnn_train_adam, mlp_train_sgd  img/s of zero_grad + forward + loss + backward + step
  cnn_eval         img/s of model.eval() forward at batch 100 under torch.inference_mode()
  cnn_latency, mlp_latency  ms per batch-1 call (median), eval mode, inference_mode, logits ->
                   softmax and argmax (what our serving signature returns)
  cnn_rss          MiB: ru_maxrss of this process after --steps CNN SGD steps (one layout)
  input_pipeline   img/s of the closest equivalent of bench/input's pipeline_t2 with what Debian
                   has (no torchvision, no TFRecord reader): a map-style Dataset over the same PNG
                   bytes in memory (--pngs, written by bench_input --only pipeline_t2), PIL decode,
                   F.interpolate bilinear to 32x32, random flip, random brightness +-0.1,
                   per-image standardization (TF's formula), DataLoader(batch_size=32,
                   num_workers=2, one torch thread per worker, persistent workers), one epoch timed
                   after a warm-up epoch.
"""
import argparse
import io
import resource
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 100
NBATCH = 10


def make_data():
    g = torch.Generator().manual_seed(12345)
    x = torch.rand(NBATCH * BATCH, 784, generator=g)
    y = torch.randint(0, 10, (NBATCH * BATCH,), generator=g)
    return x, y


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024, 10))


def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))


def batches(x, y, model_name, layout):
    out = []
    for b in range(NBATCH):
        xb = x[b * BATCH:(b + 1) * BATCH]
        if model_name == "cnn":
            xb = xb.reshape(BATCH, 1, 28, 28)
            if layout == "cl":
                xb = xb.contiguous(memory_format=torch.channels_last)
        out.append((xb.clone(), y[b * BATCH:(b + 1) * BATCH].clone()))
    return out


def build(model_name, layout):
    torch.manual_seed(42)
    m = cnn() if model_name == "cnn" else mlp()
    if layout == "cl":
        m = m.to(memory_format=torch.channels_last)
    return m


def train_rate(model_name, layout, adam, warmup, steps, data):
    m = build(model_name, layout)
    m.train()
    opt = torch.optim.Adam(m.parameters(), lr=1e-4) if adam else torch.optim.SGD(m.parameters(), lr=0.01)
    crit = nn.CrossEntropyLoss()
    bs = batches(data[0], data[1], model_name, layout)
    t0 = 0.0
    for i in range(-warmup, steps):
        if i == 0:
            t0 = time.perf_counter()
        xb, yb = bs[(i + warmup) % NBATCH]
        opt.zero_grad(set_to_none=True)
        loss = crit(m(xb), yb)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    if not torch.isfinite(loss):
        sys.exit("torch_bench: the loss is not finite")
    return steps * BATCH / dt


def eval_rate(layout, warmup, steps, data):
    m = build("cnn", layout).eval()
    bs = batches(data[0], data[1], "cnn", layout)
    with torch.inference_mode():
        t0 = 0.0
        for i in range(-warmup, steps):
            if i == 0:
                t0 = time.perf_counter()
            m(bs[(i + warmup) % NBATCH][0])
        return steps * BATCH / (time.perf_counter() - t0)


def latency(model_name, layout, warmup, steps, data):
    m = build(model_name, layout).eval()
    x = data[0]
    n = x.shape[0]
    inputs = []
    for i in range(n):
        xi = x[i:i + 1].clone()
        if model_name == "cnn":
            xi = xi.reshape(1, 1, 28, 28)
            if layout == "cl":
                xi = xi.contiguous(memory_format=torch.channels_last)
        inputs.append(xi)
    times = []
    with torch.inference_mode():
        for i in range(-warmup, steps):
            t0 = time.perf_counter()
            logits = m(inputs[(i + warmup) % n])
            torch.softmax(logits, -1)
            torch.argmax(logits, 1)
            if i >= 0:
                times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


# ---- input pipeline ----

class PngDataset(torch.utils.data.Dataset):
    def __init__(self, pngs, labels):
        self.pngs, self.labels = pngs, labels

    def __len__(self):
        return len(self.pngs)

    def __getitem__(self, i):
        from PIL import Image
        img = np.asarray(Image.open(io.BytesIO(self.pngs[i])), dtype=np.float32) / 255.0
        a = torch.from_numpy(img)[None, None]
        a = F.interpolate(a, size=(32, 32), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
        g = torch.Generator().manual_seed(i)
        r = torch.rand(2, generator=g)
        if r[0] < 0.5:
            a = a.flip(1)
        a = a + (r[1] * 0.2 - 0.1)
        # tf.image.per_image_standardization: (x - mean) / max(stddev, 1/sqrt(N))
        a = (a - a.mean()) / torch.clamp(a.std(unbiased=False), min=1.0 / np.sqrt(a.numel()))
        return a, int(self.labels[i])


def worker_init(_):
    torch.set_num_threads(1)


def input_rate(path):
    pngs, labels = [], []
    with open(path, "rb") as f:
        buf = f.read()
    off = 0
    while off < len(buf):
        size = int.from_bytes(buf[off:off + 4], "little")
        pngs.append(buf[off + 4:off + 4 + size])
        labels.append(buf[off + 4 + size])
        off += 5 + size
    dl = torch.utils.data.DataLoader(PngDataset(pngs, labels), batch_size=32, num_workers=2,
                                     worker_init_fn=worker_init, persistent_workers=True)
    rates = []
    for _ in range(2):  # the first epoch warms up (worker start, imports)
        t0 = time.perf_counter()
        n = 0
        for xb, _yb in dl:
            n += xb.shape[0]
        rates.append(n / (time.perf_counter() - t0))
    return rates[-1]


def best(fn, layout, name):
    if layout != "best":
        return fn(layout), layout
    # NCHW then channels_last, each after its own warm-up, in one process
    r = {}
    for lay in ("nchw", "cl"):
        r[lay] = fn(lay)
    print("%s: nchw %.4g, channels_last %.4g" % (name, r["nchw"], r["cl"]), file=sys.stderr)
    return (max if not name.endswith("latency") else min)(r.items(), key=lambda kv: kv[1])[::-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--steps", type=int, default=-1)
    ap.add_argument("--warmup", type=int, default=-1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layout", default="best", choices=["best", "nchw", "cl"])
    ap.add_argument("--pngs", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = make_data()
    w = a.workload

    def d(x, default):
        return default if x < 0 else x

    unit, layout = "img/s", "-"
    if w in ("cnn_train_sgd", "cnn_train_adam"):
        adam = w.endswith("adam")
        v, layout = best(lambda lay: train_rate("cnn", lay, adam, d(a.warmup, 5), d(a.steps, 40), data), a.layout, w)
    elif w == "mlp_train_sgd":
        v = train_rate("mlp", "nchw", False, d(a.warmup, 20), d(a.steps, 300), data)
    elif w == "cnn_eval":
        v, layout = best(lambda lay: eval_rate(lay, d(a.warmup, 3), d(a.steps, 40), data), a.layout, w)
    elif w == "cnn_latency":
        v, layout = best(lambda lay: latency("cnn", lay, d(a.warmup, 50), d(a.steps, 500), data), a.layout, w)
        unit = "ms"
    elif w == "mlp_latency":
        v = latency("mlp", "nchw", d(a.warmup, 50), d(a.steps, 3000), data)
        unit = "ms"
    elif w == "cnn_rss":
        lay = "cl" if a.layout == "best" else a.layout
        train_rate("cnn", lay, False, 0, d(a.steps, 30), data)
        v, layout = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, lay
        unit = "MiB"
    elif w == "input_pipeline":
        v = input_rate(a.pngs)
    else:
        sys.exit("unknown workload " + w)
    print("layout: %s" % layout, file=sys.stderr)
    print("RESULT %s %.4g %s" % (w, v, unit))


if __name__ == "__main__":
    main()
