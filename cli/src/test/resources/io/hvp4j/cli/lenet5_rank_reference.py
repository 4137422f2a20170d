"""Reference ranks for RankModelTest: the conv1 block of H, H_O and H_F of LeNet-5 (hvp4j's built-in 'lenet5')
in PyTorch float64, ranks by numpy.linalg.matrix_rank's default tolerance (sigma_max * n * eps).

Parameters and data come from closed formulas (RankModelTest writes the same values with Java's Math.sin), so no
weights file is committed. Run: /usr/bin/python3 lenet5_rank_reference.py > lenet5_rank_reference.json
"""
import json
import math

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
N = 4


class LeNet5(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = torch.nn.Conv2d(6, 16, 5)
        self.fc1 = torch.nn.Linear(400, 120)
        self.fc2 = torch.nn.Linear(120, 84)
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x):
        pool = torch.nn.functional.avg_pool2d
        h = pool(torch.tanh(self.conv1(x)), 2)
        h = pool(torch.tanh(self.conv2(h)), 2).flatten(1)
        h = torch.tanh(self.fc1(h))
        h = torch.tanh(self.fc2(h))
        return self.fc3(h)


def wave(i, b):
    """sin of a quadratic in i: no low-rank pattern in the matrices it fills (a linear phase would give rank 2)."""
    d = float(i)
    return math.sin(d * d * 0.618 + 1.7 * d + b)


def parameter(i, fan_in):
    """Flat parameter i (state_dict order); fan_in of its tensor (0 for a bias)."""
    return wave(i, 0.5) * (0.1 if fan_in == 0 else 1.0 / math.sqrt(fan_in))


def main():
    net = LeNet5()
    i = 0
    with torch.no_grad():
        for name, p in net.named_parameters():
            fan_in = 0 if name.endswith("bias") else p[0].numel()
            flat = torch.tensor([parameter(i + j, fan_in) for j in range(p.numel())])
            p.copy_(flat.reshape(p.shape))
            i += p.numel()
    x = torch.tensor([wave(j, 0.1) for j in range(N * 784)]).reshape(N, 1, 28, 28)
    y = torch.tensor([n % 10 for n in range(N)])

    w0, b0 = net.conv1.weight.detach().clone(), net.conv1.bias.detach().clone()
    nw = w0.numel()

    def logits(theta):
        w, b = theta[:nw].reshape(w0.shape), theta[nw:]
        h = torch.nn.functional.conv2d(x, w, b, padding=2)
        h = torch.nn.functional.avg_pool2d(torch.tanh(h), 2)
        h = torch.nn.functional.avg_pool2d(torch.tanh(net.conv2(h)), 2).flatten(1)
        return net.fc3(torch.tanh(net.fc2(torch.tanh(net.fc1(h)))))

    def loss(theta):
        return torch.nn.functional.cross_entropy(logits(theta), y)  # mean reduction

    theta = torch.cat([w0.flatten(), b0])
    h = torch.autograd.functional.hessian(loss, theta).numpy()
    j = torch.autograd.functional.jacobian(logits, theta).numpy()  # N x 10 x n
    prob = torch.softmax(logits(theta), dim=1).detach().numpy()
    ho = np.zeros_like(h)
    for s in range(N):
        hl = np.diag(prob[s]) - np.outer(prob[s], prob[s])
        ho += j[s].T @ hl @ j[s] / N
    out = {"n": int(theta.numel()), "samples": N}
    for key, m in (("H", h), ("H_O", ho), ("H_F", h - ho)):
        sv = np.linalg.svd(m, compute_uv=False)
        r = int(np.linalg.matrix_rank(m))
        tol = sv.max() * max(m.shape) * np.finfo(np.float64).eps
        out[key] = {"rank": r, "sigma_max": float(sv.max()),
                    "gap": float(sv[r - 1] / sv[r]) if r < len(sv) else None,
                    "margin_above": float(sv[r - 1] / tol), "margin_below": float(tol / sv[r]) if r < len(sv) else None}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
