#!/usr/bin/env python3
"""hvp4j's graph engine beside PyTorch on the built-in CNNs (LeNet-5, ResNet-8 and its ablations).

  check: builds the same network in PyTorch (same module names, so the same state_dict and parameter order),
         randomises the BatchNorm running statistics, writes weights (.safetensors), inputs, labels and a vector,
         runs `hvp4j grad` and `hvp4j hvp` (hessian, ggn, functional) in float64 and compares with PyTorch's
         float64 gradient, double-backward HVP and Gauss-Newton product. Exits 1 above the tolerance.
  time:  medians of PyTorch's best HVP (double backward, or forward-over-reverse where torch.func exists) and
         gradient beside `hvp4j bench --model NAME --json`, same batch, dtype and threads.

Usage: graph_peer.py check [--model resnet8] [--batch 6]
       graph_peer.py time  [--model lenet5] [--batch 256] [--dtype f32] [--threads 2] [--reps 5]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_peer import median_ms, write_safetensors  # noqa: E402

HVP4J = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "hvp4j")


class LeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(torch.tanh(self.fc2(torch.tanh(self.fc1(x)))))


class Block(nn.Module):
    def __init__(self, w, bn, skip):
        super().__init__()
        self.conv1 = nn.Conv2d(w, w, 3, padding=1, bias=not bn)
        self.bn1 = nn.BatchNorm2d(w) if bn else nn.Identity()
        self.conv2 = nn.Conv2d(w, w, 3, padding=1, bias=not bn)
        self.bn2 = nn.BatchNorm2d(w) if bn else nn.Identity()
        self.skip = skip

    def forward(self, x):
        r = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(r + x if self.skip else r)


class ResNet8(nn.Module):
    def __init__(self, w=16, classes=10, bn=True, skip=True, inc=3):
        super().__init__()
        self.conv1 = nn.Conv2d(inc, w, 3, padding=1, bias=not bn)
        self.bn1 = nn.BatchNorm2d(w) if bn else nn.Identity()
        self.layers = nn.Sequential(*[Block(w, bn, skip) for _ in range(3)])
        self.fc = nn.Linear(w, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


MODELS = {
    "lenet5": (lambda: LeNet5(), (1, 28, 28)),
    "resnet8": (lambda: ResNet8(), (3, 32, 32)),
    "resnet8-nobn": (lambda: ResNet8(bn=False), (3, 32, 32)),
    "resnet8-noskip": (lambda: ResNet8(skip=False), (3, 32, 32)),
}


def build(name, dtype, seed):
    torch.manual_seed(seed)
    make, shape = MODELS[name]
    model = make().to(dtype)
    g = torch.Generator().manual_seed(seed + 1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):  # away from the trivial statistics, so that eval BN matters
            m.running_mean.copy_(0.2 * torch.randn(m.num_features, generator=g, dtype=dtype))
            m.running_var.copy_(0.5 + torch.rand(m.num_features, generator=g, dtype=dtype))
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.num_features, generator=g, dtype=dtype))
            m.bias.data.copy_(0.2 * torch.randn(m.num_features, generator=g, dtype=dtype))
    model.eval()
    return model, shape


def data(shape, batch, dtype, seed):
    g = torch.Generator().manual_seed(seed + 7)
    return torch.randn((batch,) + shape, generator=g, dtype=dtype), torch.randint(0, 10, (batch,), generator=g)


def hvp(model, x, y, v):
    params = list(model.parameters())
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    return torch.autograd.grad(grads, params, v)


def ggn(model, x, y, v):
    params = list(model.parameters())
    out = model(x)
    u = torch.zeros_like(out, requires_grad=True)  # J v by the double-vjp trick
    jt = torch.autograd.grad(out, params, u, create_graph=True)
    jv = torch.autograd.grad(jt, u, v)[0]
    p = torch.softmax(out.detach(), 1)
    hjv = (p * jv - p * (p * jv).sum(1, keepdim=True)) / out.shape[0]
    return torch.autograd.grad(out, params, hjv)


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def rel(a, b):
    return float(torch.linalg.norm(a - b) / max(float(torch.linalg.norm(b)), 1e-300))


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("graph_peer: %s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p.stdout


def check(args):
    torch.set_num_threads(args.threads)
    model, shape = build(args.model, torch.float64, args.seed)
    x, y = data(shape, args.batch, torch.float64, args.seed)
    params = list(model.parameters())
    g = torch.Generator().manual_seed(args.seed + 3)
    v = [torch.randn(p.shape, generator=g, dtype=torch.float64) for p in params]
    loss = F.cross_entropy(model(x), y)
    grad = flat(torch.autograd.grad(loss, params))
    ref = {"hessian": flat(hvp(model, x, y, v)), "ggn": flat(ggn(model, x, y, v))}
    ref["functional"] = ref["hessian"] - ref["ggn"]
    worst = 0.0
    with tempfile.TemporaryDirectory() as d:
        w, xf, yf, vf = (os.path.join(d, n) for n in ("w.safetensors", "x.npy", "y.npy", "v.npy"))
        write_safetensors(w, {k: t for k, t in model.state_dict().items() if t.is_floating_point()})
        np.save(xf, x.reshape(args.batch, -1).numpy())
        np.save(yf, y.numpy())
        np.save(vf, flat(v).numpy())
        common = ["--model", args.model, "--loss", "ce", "--dtype", "f64", "--threads", str(args.threads),
                  "--weights", w, "--inputs", xf, "--targets", yf]
        out = os.path.join(d, "g.npy")
        run([HVP4J, "grad"] + common + ["--out", out])
        e = rel(torch.from_numpy(np.load(out)), grad)
        print("%-10s %-10s rel. error %.2e" % (args.model, "gradient", e))
        worst = max(worst, e)
        for product, r in ref.items():
            run([HVP4J, "hvp"] + common + ["--vector", vf, "--product", product, "--out", out])
            e = rel(torch.from_numpy(np.load(out)), r)
            print("%-10s %-10s rel. error %.2e" % (args.model, product, e))
            worst = max(worst, e)
    print("P = %d, batch %d, float64, worst relative error %.2e (tolerance %.0e)" % (
        sum(p.numel() for p in params), args.batch, worst, args.tol))
    return 0 if worst <= args.tol else 1


def time_it(args):
    dtype = {"f32": torch.float32, "f64": torch.float64}[args.dtype]
    torch.set_num_threads(args.threads)
    model, shape = build(args.model, dtype, args.seed)
    x, y = data(shape, args.batch, dtype, args.seed)
    params = list(model.parameters())
    g = torch.Generator().manual_seed(args.seed + 3)
    v = [torch.randn(p.shape, generator=g, dtype=dtype) for p in params]
    tm = lambda fn: median_ms(fn, args.reps, 2, args.warmup_seconds)
    t = {"grad_ms": tm(lambda: torch.autograd.grad(F.cross_entropy(model(x), y), params)),
         "hvp_double_backward_ms": tm(lambda: hvp(model, x, y, v))}
    try:
        from torch.func import functional_call, grad as fgrad, jvp
        names = [n for n, _ in model.named_parameters()]
        fl = lambda ps: F.cross_entropy(functional_call(model, dict(zip(names, ps)), (x,)), y)
        t["hvp_forward_over_reverse_ms"] = tm(lambda: jvp(fgrad(fl), (tuple(params),), (tuple(v),)))
    except ImportError:
        pass
    t["hvp_ms"] = min(val for key, val in t.items() if key.startswith("hvp_"))
    h = json.loads(run([HVP4J, "bench", "--model", args.model, "--batch", str(args.batch), "--dtype", args.dtype,
                        "--threads", str(args.threads), "--block", "16", "--reps", str(args.reps), "--json"]))
    print(json.dumps({"model": args.model, "batch": args.batch, "dtype": args.dtype, "threads": args.threads,
                      "torch": torch.__version__, "torch_ms": t,
                      "hvp4j_ms": {k: h[k] for k in ("grad_ms", "hvp_ms", "hvp_block_ms_per_vector")},
                      "hvp_speedup": t["hvp_ms"] / h["hvp_ms"],
                      "block_per_vector_speedup": t["hvp_ms"] / h["hvp_block_ms_per_vector"],
                      "hvp4j_hvp_grad_ratio": h["hvp_grad_ratio"], "hvp4j_peak_memory_ratio": h.get("peak_memory_ratio")}))
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["check", "time"])
    ap.add_argument("--model", default="resnet8", choices=sorted(MODELS))
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--dtype", default="f32", choices=["f32", "f64"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup-seconds", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tol", type=float, default=1e-10,
                    help="check: largest relative error allowed (float64 rounding of sums of ~1e5 terms)")
    args = ap.parse_args(argv)
    if args.batch is None:
        args.batch = 6 if args.mode == "check" else {"lenet5": 256}.get(args.model, 64)
    return check(args) if args.mode == "check" else time_it(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
