#!/usr/bin/env python3
"""Independent PyTorch power iteration for hvp4j's PyHessian ablation (check P1): the top eigenvalue of the loss
Hessian of ResNet-8 (graph_peer.ResNet8: same module names, so the same parameter order) with or without BatchNorm
and skip connections, at a point and on a batch hvp4j wrote.

The model runs in train() mode, as hvp4j's train-mode BatchNorm: the batch's statistics (biased variance).
Hessian-vector products by double backward; power iteration v <- Hv/|Hv| from a standard normal start, with the
Rayleigh quotient as the estimate, until its relative change is at most --tol (PyHessian's scheme, tighter
tolerance).

Usage: pyhessian_peer.py DIR --variant resnet8|resnet8-nobn|resnet8-noskip --width 8 --side 14
  DIR/theta.npy (P,) float64, DIR/x.npy (N, side*side) float64, DIR/labels.npy (N,) int64
Prints one JSON object: {"loss", "lambda", "iterations", "relative_change"}.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from graph_peer import ResNet8  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--variant", default="resnet8")
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--side", type=int, default=14)
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--max-iterations", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    model = ResNet8(w=a.width, classes=10, bn=not a.variant.endswith("-nobn"),
                    skip=not a.variant.endswith("-noskip"), inc=1)
    theta = torch.from_numpy(np.load(os.path.join(a.dir, "theta.npy")))
    params = list(model.parameters())
    if theta.numel() != sum(p.numel() for p in params):
        raise SystemExit("pyhessian_peer: %d parameters given, the model has %d"
                         % (theta.numel(), sum(p.numel() for p in params)))
    torch.nn.utils.vector_to_parameters(theta, params)
    model.train()
    x = torch.from_numpy(np.load(os.path.join(a.dir, "x.npy"))).reshape(-1, 1, a.side, a.side)
    y = torch.from_numpy(np.load(os.path.join(a.dir, "labels.npy")))
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)

    def hvp(v):
        hv = torch.autograd.grad(grads, params, v, retain_graph=True)
        return torch.cat([t.reshape(-1) for t in hv])

    def split(flat):
        out, at = [], 0
        for p in params:
            out.append(flat[at:at + p.numel()].reshape(p.shape))
            at += p.numel()
        return out

    g = torch.Generator().manual_seed(a.seed)
    v = torch.randn(theta.numel(), generator=g)
    v /= v.norm()
    lam, change, it = None, float("inf"), 0
    for it in range(1, a.max_iterations + 1):
        hv = hvp(split(v))
        new = float(v @ hv)
        if lam is not None:
            change = abs(new - lam) / (abs(new) + 1e-300)
        lam = new
        v = hv / hv.norm()
        if change <= a.tol:
            break
    print(json.dumps({"loss": float(loss), "lambda": lam, "iterations": it, "relative_change": change}))


if __name__ == "__main__":
    main()
