#!/usr/bin/env python3
"""Independent float64 reference for hvp4j's CNN Hessian ranks (check C1): dense H, H_O and H_F of small CNNs.

The nets are written here with torch.nn.functional (conv1d/conv2d, activation, flatten, linear head, no biases),
the loss as a function of the flat parameter vector, and the Hessian by torch.autograd.functional.hessian; the
Gauss-Newton part from the Jacobian of the outputs: H_O = (1/N) sum_i J_i^T A_i J_i (A_i = I for mse, the softmax
Hessian diag(p) - p p^T for ce). Nothing of hvp4j is used but the inputs it wrote.

Usage: cnn_rank_peer.py DIR
  DIR/cases.json: [{"name", "spatial": 1|2, "input": [C, L] or [C, H, W], "channels": [m1, ...], "kernel": k,
                    "act": "identity"|"tanh", "classes": K, "loss": "mse"|"ce"}, ...]
  DIR/<name>.theta.npy (P,), DIR/<name>.x.npy (N, C*L or C*H*W), DIR/<name>.y.npy (N, K) float64
Writes DIR/<name>.H.npy and DIR/<name>.HO.npy (P, P) and DIR/ranks.json:
  {name: {"p", "H", "HO", "HF"}} with numpy.linalg.matrix_rank's default tolerance (sigma_max * P * eps).
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def shapes(case):
    """Parameter shapes in registration order: conv weights, then the head's weight."""
    out, c = [], case["input"][0]
    spatial = case["spatial"]
    k = case["kernel"]
    size = list(case["input"][1:])
    for m in case["channels"]:
        out.append((m, c) + (k,) * spatial)
        c = m
        size = [s - k + 1 for s in size]
    out.append((case["classes"], c * int(np.prod(size))))
    return out


def forward(case, theta, x):
    act = {"identity": lambda t: t, "tanh": torch.tanh}[case["act"]]
    conv = {1: F.conv1d, 2: F.conv2d}[case["spatial"]]
    h = x.reshape((x.shape[0],) + tuple(case["input"]))
    at, ws = 0, []
    for s in shapes(case):
        n = int(np.prod(s))
        ws.append(theta[at:at + n].reshape(s))
        at += n
    for w in ws[:-1]:
        h = act(conv(h, w))
    return F.linear(torch.flatten(h, 1), ws[-1])


def loss(case, theta, x, y):
    f = forward(case, theta, x)
    if case["loss"] == "mse":
        return 0.5 * ((f - y) ** 2).sum() / x.shape[0]
    return -(y * torch.log_softmax(f, 1)).sum() / x.shape[0]


def gauss_newton(case, theta, x):
    f = forward(case, theta, x).detach()
    jac = torch.autograd.functional.jacobian(lambda t: forward(case, t, x), theta)  # (N, K, P)
    n = x.shape[0]
    if case["loss"] == "mse":
        return torch.einsum("nkp,nkq->pq", jac, jac) / n
    p = torch.softmax(f, 1)
    a = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    return torch.einsum("nkp,nkl,nlq->pq", jac, a, jac) / n


def main(d):
    torch.set_default_dtype(torch.float64)
    cases = json.load(open(os.path.join(d, "cases.json")))
    ranks = {}
    for case in cases:
        name = case["name"]
        theta = torch.from_numpy(np.load(os.path.join(d, name + ".theta.npy")))
        x = torch.from_numpy(np.load(os.path.join(d, name + ".x.npy")))
        y = torch.from_numpy(np.load(os.path.join(d, name + ".y.npy")))
        if theta.numel() != sum(int(np.prod(s)) for s in shapes(case)):
            raise SystemExit("cnn_rank_peer: %s: %d parameters, the shapes need %d"
                             % (name, theta.numel(), sum(int(np.prod(s)) for s in shapes(case))))
        h = torch.autograd.functional.hessian(lambda t: loss(case, t, x, y), theta)
        ho = gauss_newton(case, theta, x)
        h, ho = h.numpy(), ho.numpy()
        np.save(os.path.join(d, name + ".H.npy"), h)
        np.save(os.path.join(d, name + ".HO.npy"), ho)
        ranks[name] = {"p": int(theta.numel()), "H": int(np.linalg.matrix_rank(h)),
                       "HO": int(np.linalg.matrix_rank(ho)), "HF": int(np.linalg.matrix_rank(h - ho))}
    json.dump(ranks, open(os.path.join(d, "ranks.json"), "w"), indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
