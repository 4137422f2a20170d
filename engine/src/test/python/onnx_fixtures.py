#!/usr/bin/env python3
"""Makes the ONNX test fixtures of io.hvp4j.onnx and their PyTorch float64 references.

Reproduce (PyTorch 1.13 with its TorchScript exporter, NumPy; the `onnx` package only for the opset-18 rewrite):

    /usr/bin/python3 engine/src/test/python/onnx_fixtures.py engine/src/test/resources/io/hvp4j/onnx

For each model NAME it writes NAME.onnx (exported in float32 with the README's recipe: eval mode,
do_constant_folding=False, training=TrainingMode.PRESERVE, a dynamic batch axis) and NAME.npz with, in float64:
  x (N, ...) inputs, y (N, K) one-hot targets, loss (softmax cross-entropy, mean over the batch),
  and per state_dict parameter name P: p.P (the value in the file), v.P (a direction), grad.P, hvp.P (H v),
  ggn.P (Gauss-Newton H_O v = J^T (d2 loss/df2) J v) and functional.P (H_F v = H v - H_O v);
  for cnn_bn_res and lenet also rank.hessian, rank.ggn, rank.functional: numpy.linalg.matrix_rank (default
  tolerance) of the dense float64 matrices.
The references use the same float32 parameter values, widened to float64 (exact), on the float64 model.
Extra files: lenet_opset13.onnx, lenet_opset15.onnx (same weights as lenet.onnx, other opsets),
attention_opset18.onnx (attention.onnx with opset 18's ReduceMean(x, axes) form, made with the onnx package),
cnn_folded.onnx (PyTorch's default export: Conv+BatchNorm folded into tensors with generated names).
pads_order: parameters registered out of their order of use, and zero Pad nodes (F.pad, padded AvgPool2d).
gelu_tanh: F.gelu(approximate='tanh'), which the importer fuses back into one exact GELU.

The dynamo exporter (torch.onnx.dynamo_export / dynamo=True) is not in torch 1.13, so no fixture comes from it.
"""
import io
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N = 4


class CnnBnRes(nn.Module):
    """Conv-BN-ReLU, Conv-BN plus a residual add, ReLU, max pooling, x.view(n, -1), Linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4)  # left fresh: its ones/zeros merge with bn1's into Identity-renamed tensors
        self.fc = nn.Linear(4 * 3 * 3, 3)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)) + h)
        h = F.max_pool2d(h, 2)
        return self.fc(h.view(h.size(0), -1))


class LeNet(nn.Module):
    """LeNet-style: conv, tanh, average pooling twice, x.reshape(x.shape[0], -1), two Linear layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 5, padding=2)
        self.conv2 = nn.Conv2d(4, 6, 3)
        self.fc1 = nn.Linear(6 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        h = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        h = F.avg_pool2d(torch.tanh(self.conv2(h)), 2)
        h = h.reshape(h.shape[0], -1)
        return self.fc2(torch.tanh(self.fc1(h)))


class Attention(nn.Module):
    """A pre-norm transformer block on (N, T, d): 2-head self-attention (qkv chunked, heads by view/transpose),
    a GELU feed-forward (exported as Erf arithmetic), dropout, mean over tokens, Linear head."""

    def __init__(self, d=8, heads=2, classes=3):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, 2 * d)
        self.ff2 = nn.Linear(2 * d, d)
        self.drop = nn.Dropout(0.1)
        self.head = nn.Linear(d, classes)

    def forward(self, x):
        n, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=-1)
        q = q.view(n, t, h, d // h).transpose(1, 2)
        k = k.view(n, t, h, d // h).transpose(1, 2)
        v = v.view(n, t, h, d // h).transpose(1, 2)
        a = torch.softmax(q @ k.transpose(-2, -1) / (d // h) ** 0.5, dim=-1)
        o = (a @ v).transpose(1, 2).reshape(n, t, d)
        x = x + self.drop(self.proj(o))
        x = x + self.ff2(F.gelu(self.ff1(self.ln2(x))))
        return self.head(x.mean(dim=1))


class Activations(nn.Module):
    """An MLP with a different activation after each Linear layer, BatchNorm1d (eval), Dropout and Identity."""

    ACTS = [nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.GELU(), nn.ELU(0.5), nn.LeakyReLU(0.1), nn.Softplus(), nn.SiLU()]

    def __init__(self, d=6, width=5, classes=3):
        super().__init__()
        layers = []
        inp = d
        for i, act in enumerate(self.ACTS):
            layers += [nn.Linear(inp, width), act]
            inp = width
            if i == 3:
                layers += [nn.BatchNorm1d(width), nn.Dropout(0.2), nn.Identity()]
        layers.append(nn.Linear(inp, classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


class PadsOrder(nn.Module):
    """Registers the head before the convolution it follows (so state_dict order is not the order of use); F.pad
    before a convolution and AvgPool2d with padding, both exported as a zero Pad node (F.pad's pads through a
    reversed Slice)."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4 * 3 * 3, 3)
        self.conv = nn.Conv2d(2, 4, 3)

    def forward(self, x):
        h = torch.tanh(self.conv(F.pad(x, (1, 1, 1, 1))))
        return self.head(F.avg_pool2d(h, 3, stride=2, padding=1).flatten(1))


class GeluTanh(nn.Module):
    """The tanh GELU (approximate='tanh'), exported as a chain of nine nodes with float32 constants."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


def randomize_buffers(model, gen):
    """Non-trivial BatchNorm statistics (and affine parameters, except in modules named to stay fresh)."""
    for name, m in model.named_modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and name != "bn2":
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.3)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=gen))
            m.bias.data.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def export(model, x, path, opset=17, **kw):
    model.eval()
    args = dict(do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)
    args.update(kw)
    torch.onnx.export(model, x, path, opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "n"}}, **args)


def references(model, x, labels, gen):
    """Loss, gradient, H v, H_O v and H_F v of mean softmax cross-entropy, in float64."""
    model = model.double().eval()
    params = [p for _, p in model.named_parameters()]
    names = [n for n, _ in model.named_parameters()]
    vs = [torch.randn(p.shape, generator=gen, dtype=torch.float64) for p in params]
    out = model(x)
    loss = F.cross_entropy(out, labels)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    hv = torch.autograd.grad(sum((g * v).sum() for g, v in zip(grads, vs)), params, retain_graph=True)
    # J v by the double-vjp trick, then the loss Hessian in f, then J^T.
    u = torch.zeros_like(out, requires_grad=True)
    jtu = torch.autograd.grad(out, params, u, create_graph=True)
    jv = torch.autograd.grad(sum((a * v).sum() for a, v in zip(jtu, vs)), u)[0]
    p = torch.softmax(out, dim=1).detach()
    hjv = (p * jv - p * (p * jv).sum(dim=1, keepdim=True)) / out.shape[0]
    ggn = torch.autograd.grad(out, params, hjv)
    ref = {"x": x.numpy(), "loss": np.array(loss.item())}
    ref["y"] = np.eye(out.shape[1])[labels.numpy()]
    for n, prm, v, g, h, o in zip(names, params, vs, grads, hv, ggn):
        ref["p." + n] = prm.detach().numpy()
        ref["v." + n] = v.numpy()
        ref["grad." + n] = g.detach().numpy()
        ref["hvp." + n] = h.numpy()
        ref["ggn." + n] = o.numpy()
        ref["functional." + n] = (h - o).numpy()
    return ref


def dense_ranks(model, x, labels):
    """numpy.linalg.matrix_rank (default tolerance) of the dense H, H_O and H_F = H - H_O, in float64."""
    params = [p for _, p in model.named_parameters()]
    out = model(x)
    loss = F.cross_entropy(out, labels)
    g = torch.cat([a.reshape(-1) for a in torch.autograd.grad(loss, params, create_graph=True)])
    h = torch.stack([torch.cat([a.reshape(-1) for a in torch.autograd.grad(g[i], params, retain_graph=True)])
                     for i in range(g.numel())]).numpy()
    flat = out.reshape(-1)
    jac = torch.stack([torch.cat([a.reshape(-1) for a in torch.autograd.grad(flat[o], params, retain_graph=True)])
                       for o in range(flat.numel())]).numpy()
    p = torch.softmax(out, dim=1).detach().numpy()
    n, k = p.shape
    hl = np.zeros((n * k, n * k))
    for i in range(n):
        hl[i * k:(i + 1) * k, i * k:(i + 1) * k] = (np.diag(p[i]) - np.outer(p[i], p[i])) / n
    ggn = jac.T @ hl @ jac
    return {"rank.hessian": np.array(np.linalg.matrix_rank(h)), "rank.ggn": np.array(np.linalg.matrix_rank(ggn)),
            "rank.functional": np.array(np.linalg.matrix_rank(h - ggn))}


def opset18(src, dst):
    """attention.onnx rewritten to opset 18: ReduceMean takes its axes as an input instead of an attribute."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(src)
    for op in m.opset_import:
        if op.domain in ("", "ai.onnx"):
            op.version = 18
    for node in m.graph.node:
        if node.op_type == "ReduceMean":
            axes = [a for a in node.attribute if a.name == "axes"][0]
            name = node.output[0] + "_axes"
            m.graph.initializer.append(numpy_helper.from_array(np.array(list(axes.ints), dtype=np.int64), name))
            node.attribute.remove(axes)
            node.input.append(name)
    onnx.save(m, dst)


def main(out):
    os.makedirs(out, exist_ok=True)
    models = {
        "cnn_bn_res": (CnnBnRes, (3, 6, 6)),
        "lenet": (LeNet, (1, 12, 12)),
        "attention": (Attention, (5, 8)),
        "activations": (Activations, (6,)),
        "pads_order": (PadsOrder, (2, 6, 6)),
        "gelu_tanh": (GeluTanh, (6,)),
    }
    for seed, (name, (cls, shape)) in enumerate(models.items()):
        gen = torch.Generator().manual_seed(100 + seed)
        torch.manual_seed(seed)
        model = cls()
        with torch.no_grad():
            randomize_buffers(model, gen)
        model.eval()
        x32 = torch.randn((N,) + shape, generator=gen)
        export(model, x32, os.path.join(out, name + ".onnx"))
        if name == "lenet":
            for opset in (13, 15):
                export(model, x32, os.path.join(out, "lenet_opset%d.onnx" % opset), opset=opset)
        if name == "cnn_bn_res":
            model.eval()
            torch.onnx.export(model, x32, os.path.join(out, "cnn_folded.onnx"), opset_version=17,
                              input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}})
        # References at the exported float32 values, widened exactly to float64.
        x = torch.randn((N,) + shape, generator=gen, dtype=torch.float64)
        labels = torch.randint(0, 3, (N,), generator=gen)
        ref = references(model, x, labels, gen)
        if name in ("cnn_bn_res", "lenet"):
            ref.update(dense_ranks(model, x, labels))
            print(name, {k: int(v) for k, v in ref.items() if k.startswith("rank.")})
        np.savez_compressed(os.path.join(out, name + ".npz"), **ref)
    opset18(os.path.join(out, "attention.onnx"), os.path.join(out, "attention_opset18.onnx"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "engine/src/test/resources/io/hvp4j/onnx")
