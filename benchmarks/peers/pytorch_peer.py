#!/usr/bin/env python3
"""hvp4j beside PyTorch on this machine, in one run.

For each configuration (network, batch, activation, loss, dtype, threads) this script times, in PyTorch:
  forward        loss under torch.no_grad()
  gradient       torch.autograd.grad of the loss
  hvp_dbl        double-backward HVP: grad(g·v) of g = grad(loss, create_graph=True)
  hvp_fwd        forward-over-reverse HVP: functorch.jvp(functorch.grad(f), (θ,), (v,))
  ggn            Gauss-Newton product Jᵀ H_ℓ J v: jvp of the network, the loss Hessian in closed form, one vjp
  block          vmap'd forward-over-reverse HVP of k vectors (functorch.vmap over jvp(grad(f)))
and runs `./hvp4j bench --json` for the same configuration, then prints one table with both and the ratios.
Every call recomputes the forward pass (as hvp4j bench does). Timings are medians of --reps calls after
--warmup calls and at least --warmup-seconds of warm-up. torch.set_num_threads(--threads); hvp4j gets the
same --threads.

--check verifies once that PyTorch's HVP (both forms) and GGN product equal hvp4j's on small networks
(weights written as safetensors, data and vectors as .npy, `./hvp4j hvp` run on them): relative error
<= 1e-10 in float64. That makes the comparison a comparison of the same mathematics.

Losses as in hvp4j: ce = mean softmax cross-entropy over integer labels; mse = (1/2n)·Σ‖f(x_i) − y_i‖².
Networks: nn.Sequential(Linear, act, ..., Linear) with biases; flat parameters in state_dict order.

Needs Python 3 with torch (Debian: apt-get install python3-torch; torch 1.13 ships functorch, newer torch has
torch.func; both are supported) and numpy. Run from anywhere:
  benchmarks/peers/pytorch_peer.sh --check
  benchmarks/peers/pytorch_peer.sh                          # the reference configuration, f32 and f64
  benchmarks/peers/pytorch_peer.sh --all --markdown         # every configuration of the benchmark issue
"""

import argparse
import json
import math
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

try:  # torch >= 2.0
    from torch.func import functional_call, grad as fgrad, jvp as fjvp, vmap as fvmap

    def make_functional(model):
        names = [n for n, _ in model.named_parameters()]

        def fmodel(params, x):
            return functional_call(model, dict(zip(names, params)), (x,))

        return fmodel, tuple(p.detach() for p in model.parameters())

    FUNC_API = "torch.func"
except ImportError:  # torch 1.13: functorch is bundled
    from functorch import grad as fgrad, jvp as fjvp, vmap as fvmap
    from functorch import make_functional as _make_functional

    def make_functional(model):
        fmodel, params = _make_functional(model)
        return fmodel, tuple(p.detach() for p in params)

    FUNC_API = "functorch"

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
HVP4J = os.path.join(ROOT, "hvp4j")

# The configurations of the benchmark issue (network, batch).
NETS = [("784,512,512,10", 256), ("784,512,512,10", 1024), ("64,100,100,10", 1000),
        ("3072,1024,1024,1024,10", 128)]

ACTIVATIONS = {
    "identity": lambda: torch.nn.Identity(),
    "relu": lambda: torch.nn.ReLU(),
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "tanh": lambda: torch.nn.Tanh(),
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "softplus": lambda: torch.nn.Softplus(),
    "gelu": lambda: torch.nn.GELU(approximate="tanh"),
}
DTYPES = {"f32": torch.float32, "f64": torch.float64}


# --------------------------------------------------------------------------------------------- problem

def build(arch, act, dtype, seed):
    widths = [int(w) for w in arch.split(",")]
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[act]())
    return torch.nn.Sequential(*layers).to(DTYPES[dtype]), widths


def data(widths, batch, loss, dtype, seed):
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(batch, widths[0], generator=g, dtype=DTYPES[dtype])
    if loss == "ce":
        y = torch.randint(0, widths[-1], (batch,), generator=g)
    else:
        y = torch.randn(batch, widths[-1], generator=g, dtype=DTYPES[dtype])
    return x, y


def loss_fn(loss, out, y, forward_ad=False):
    """The loss; forward_ad: a form whose backward supports forward-mode AD (torch 1.13's nll_loss_backward
    and _log_softmax_backward_data do not, so jvp(grad) uses mean(logsumexp(f) − f_y) there; same value)."""
    if loss == "ce":
        if forward_ad:
            onehot = F.one_hot(y, out.shape[1]).to(out.dtype)
            return (torch.logsumexp(out, dim=1) - (out * onehot).sum(dim=1)).mean()
        return F.cross_entropy(out, y)
    if loss == "mse":
        return 0.5 * ((out - y) ** 2).sum() / out.shape[0]
    raise SystemExit("pytorch_peer: unsupported loss '%s' (ce or mse)" % loss)


def loss_hessian_times(loss, out, u):
    """H_ℓ·u for the loss's Hessian with respect to the network outputs (batch-mean included)."""
    n = out.shape[0]
    if loss == "ce":
        p = torch.softmax(out, dim=1)
        return (p * u - p * (p * u).sum(dim=1, keepdim=True)) / n
    return u / n


class Products:
    """The PyTorch side of one configuration: every product recomputes the forward pass."""

    def __init__(self, model, x, y, loss):
        self.model, self.x, self.y, self.loss = model, x, y, loss
        self.params = [p for p in model.parameters()]
        self.fmodel, self.fparams = make_functional(model)

        def f(params):
            return loss_fn(loss, self.fmodel(params, x), y, forward_ad=True)

        self.f = f
        self.grad_f = fgrad(f)

    def forward(self):
        with torch.no_grad():
            return loss_fn(self.loss, self.model(self.x), self.y)

    def gradient(self):
        return torch.autograd.grad(loss_fn(self.loss, self.model(self.x), self.y), self.params)

    def hvp_double_backward(self, v):
        g = torch.autograd.grad(loss_fn(self.loss, self.model(self.x), self.y), self.params, create_graph=True)
        dot = sum((gi * vi).sum() for gi, vi in zip(g, v))
        return torch.autograd.grad(dot, self.params)

    def hvp_forward_over_reverse(self, v):
        return fjvp(self.grad_f, (self.fparams,), (tuple(v),))[1]

    def ggn(self, v):
        out, jv = fjvp(lambda p: self.fmodel(p, self.x), (self.fparams,), (tuple(v),))
        hjv = loss_hessian_times(self.loss, out.detach(), jv)
        out2 = self.fmodel(tuple(p.requires_grad_() for p in self.fparams), self.x)
        res = torch.autograd.grad(out2, self.fparams, grad_outputs=hjv)
        for p in self.fparams:
            p.requires_grad_(False)
        return res

    def block_hvp(self, vs):
        """vs: tuple of tensors, each with a leading dimension k."""
        return fvmap(lambda *vv: fjvp(self.grad_f, (self.fparams,), (tuple(vv),))[1])(*vs)


def flat(ts):
    return torch.cat([t.reshape(-1) for t in ts])


def unflat(vec, like):
    out, i = [], 0
    for p in like:
        out.append(vec[i:i + p.numel()].view_as(p))
        i += p.numel()
    return out


# --------------------------------------------------------------------------------------------- timing

def median_ms(fn, reps, warmup, warmup_seconds):
    t0 = time.perf_counter()
    i = 0
    while i < warmup or time.perf_counter() - t0 < warmup_seconds:
        fn()
        i += 1
    ts = []
    for _ in range(reps):
        s = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - s) * 1e3)
    return statistics.median(ts)


def time_torch(cfg, args):
    torch.set_num_threads(cfg["threads"])
    model, widths = build(cfg["arch"], cfg["act"], cfg["dtype"], args.seed)
    x, y = data(widths, cfg["batch"], cfg["loss"], cfg["dtype"], args.seed)
    pr = Products(model, x, y, cfg["loss"])
    g = torch.Generator().manual_seed(args.seed + 2)
    v = [torch.randn(p.shape, generator=g, dtype=p.dtype) for p in pr.params]
    k = cfg["block"]
    vs = tuple(torch.randn((k,) + tuple(p.shape), generator=g, dtype=p.dtype) for p in pr.params)
    r = {}
    tm = lambda fn: median_ms(fn, args.reps, args.warmup, args.warmup_seconds)
    r["forward_ms"] = tm(pr.forward)
    r["grad_ms"] = tm(pr.gradient)
    r["hvp_double_backward_ms"] = tm(lambda: pr.hvp_double_backward(v))
    r["hvp_forward_over_reverse_ms"] = tm(lambda: pr.hvp_forward_over_reverse(v))
    r["hvp_ms"] = min(r["hvp_double_backward_ms"], r["hvp_forward_over_reverse_ms"])
    r["ggn_ms"] = tm(lambda: pr.ggn(v))
    if not args.no_block:
        try:
            r["hvp_block_ms"] = tm(lambda: pr.block_hvp(vs))
            r["hvp_block_ms_per_vector"] = r["hvp_block_ms"] / k
        except RuntimeError as e:  # e.g. out of memory
            r["hvp_block_error"] = str(e).splitlines()[0]
    return r


def run_hvp4j(cfg, args):
    cmd = [HVP4J, "bench", "--arch", cfg["arch"], "--batch", str(cfg["batch"]), "--act", cfg["act"],
           "--loss", cfg["loss"], "--dtype", cfg["dtype"], "--threads", str(cfg["threads"]),
           "--block", str(cfg["block"]), "--reps", str(args.reps), "--seed", str(args.seed), "--json"]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("pytorch_peer: %s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


# --------------------------------------------------------------------------------------------- check

def write_safetensors(path, tensors):
    """Minimal safetensors writer: {name: tensor} (F32/F64), little-endian, 8-byte aligned header."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().numpy()
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}[a.dtype.newbyteorder("=")],
                        "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def rel_err(a, b):
    return float(torch.linalg.norm(a - b) / max(float(torch.linalg.norm(b)), 1e-300))


def check(args):
    """torch's HVP (both forms) and GGN product against `hvp4j hvp` on small float64 networks."""
    torch.set_num_threads(1)
    cases = [("6,5,4,3", "tanh", "ce", 7), ("6,5,4,3", "relu", "mse", 9), ("5,8,3", "gelu", "ce", 6)]
    worst, ok = 0.0, True
    with tempfile.TemporaryDirectory() as d:
        for arch, act, loss, n in cases:
            model, widths = build(arch, act, "f64", args.seed + 10)
            x, y = data(widths, n, loss, "f64", args.seed + 10)
            pr = Products(model, x, y, loss)
            write_safetensors(os.path.join(d, "w.safetensors"), model.state_dict())
            np.save(os.path.join(d, "x.npy"), x.numpy())
            np.save(os.path.join(d, "y.npy"), y.numpy())
            P = sum(p.numel() for p in pr.params)
            v = torch.randn(P, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
            np.save(os.path.join(d, "v.npy"), v.numpy())
            vp = unflat(v, pr.params)
            torch_results = {
                "hessian": [("double-backward", flat(pr.hvp_double_backward(vp))),
                            ("jvp(grad)", flat(pr.hvp_forward_over_reverse(vp)))],
                "ggn": [("jvp / H_loss / vjp", flat(pr.ggn(vp)))],
            }
            # A block of 3 vectors (columns of V, P × 3) through the vmap'd product.
            vb = torch.randn(3, P, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
            np.save(os.path.join(d, "vb.npy"), vb.T.contiguous().numpy())
            blocked = pr.block_hvp(tuple(t.reshape((3,) + tuple(p.shape)) for t, p in
                                         zip(torch.split(vb, [p.numel() for p in pr.params], dim=1), pr.params)))
            torch_results["hessian block"] = [("vmap(jvp(grad)), k=3",
                                               torch.cat([b.reshape(3, -1) for b in blocked], dim=1).T)]
            for product, refs in torch_results.items():
                out = os.path.join(d, "hv.npy")
                block = product.endswith(" block")
                cmd = [HVP4J, "hvp", "--arch", arch, "--act", act, "--loss", loss, "--weights",
                       os.path.join(d, "w.safetensors"), "--inputs", os.path.join(d, "x.npy"), "--targets",
                       os.path.join(d, "y.npy"), "--vector", os.path.join(d, "vb.npy" if block else "v.npy"),
                       "--product", product.split()[0], "--dtype", "f64", "--threads", "1", "--out", out]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    raise SystemExit("pytorch_peer: %s failed: %s" % (" ".join(cmd), p.stderr.strip()))
                mine = torch.from_numpy(np.load(out))
                for name, ref in refs:
                    e = rel_err(mine, ref)
                    worst = max(worst, e)
                    passed = e <= 1e-10
                    ok = ok and passed
                    print("check %-10s %-5s %-4s %-13s torch %-22s rel. error %.2e  %s"
                          % (arch, act, loss, product, name, e, "PASS" if passed else "FAIL"))
    print("check: %s (worst relative error %.2e, tolerance 1e-10, float64; torch %s, %s)"
          % ("PASS" if ok else "FAIL", worst, torch.__version__, FUNC_API))
    return ok


# --------------------------------------------------------------------------------------------- output

ROWS = [("forward", "forward_ms", "forward_ms"), ("gradient", "grad_ms", "grad_ms"),
        ("HVP (torch: best of the two)", "hvp_ms", "hvp_ms"),
        ("  torch double-backward", "hvp_ms", "hvp_double_backward_ms"),
        ("  torch jvp(grad)", "hvp_ms", "hvp_forward_over_reverse_ms"),
        ("GGN product", "ggn_ms", "ggn_ms"),
        ("block HVP per vector", "hvp_block_ms_per_vector", "hvp_block_ms_per_vector"),
        ("block per vector vs torch best HVP", "hvp_block_ms_per_vector", "hvp_ms")]


def rows_of(result):
    out = []
    for label, mine_key, torch_key in ROWS:
        m, t = result["hvp4j"].get(mine_key), result["torch"].get(torch_key)
        out.append((label, m, t, (t / m) if m and t else None))
    return out


def describe(cfg):
    return "%s B=%d %s %s %s threads=%d k=%d" % (cfg["arch"], cfg["batch"], cfg["act"], cfg["loss"], cfg["dtype"],
                                                 cfg["threads"], cfg["block"])


def print_table(results):
    for res in results:
        cfg = res["config"]
        print("\n" + describe(cfg))
        print("%-36s %12s %12s %18s" % ("operation", "hvp4j ms", "torch ms", "torch / hvp4j"))
        for label, m, t, ratio in rows_of(res):
            print("%-36s %12s %12s %18s" % (label, fmt(m), fmt(t), "%.2fx" % ratio if ratio else "-"))
        h, tr = res["hvp4j"], res["torch"]
        print("HVP / gradient time: hvp4j %.2f, torch %.2f; hvp4j HVP %.1f GFLOP/s; hvp4j peak memory HVP/gradient %s"
              % (h["hvp_ms"] / h["grad_ms"], tr["hvp_ms"] / tr["grad_ms"], h["hvp_gflops"],
                 fmt(h.get("peak_memory_ratio"))))


def fmt(x):
    return "-" if x is None else ("%.2f" % x if isinstance(x, float) else str(x))


def print_markdown(results, argv):
    print("Command: `benchmarks/peers/pytorch_peer.sh %s` (torch %s, %s; medians; torch / hvp4j > 1 means hvp4j"
          " is faster)\n" % (" ".join(argv), torch.__version__, FUNC_API))
    print("| configuration | operation | hvp4j ms | torch ms | torch / hvp4j |")
    print("|---|---|---|---|---|")
    for res in results:
        for label, m, t, ratio in rows_of(res):
            print("| %s | %s | %s | %s | %s |" % (describe(res["config"]), label.strip(), fmt(m), fmt(t),
                                                  "%.2f" % ratio if ratio else "–"))
    print()
    print("| configuration | HVP/grad hvp4j | HVP/grad torch | hvp4j HVP GFLOP/s | hvp4j peak memory HVP/grad |")
    print("|---|---|---|---|---|")
    for res in results:
        h, t = res["hvp4j"], res["torch"]
        print("| %s | %.2f | %.2f | %.1f | %s |" % (describe(res["config"]), h["hvp_ms"] / h["grad_ms"],
                                                  t["hvp_ms"] / t["grad_ms"], h["hvp_gflops"],
                                                  fmt(h.get("peak_memory_ratio"))))


# --------------------------------------------------------------------------------------------- main

def configs(args):
    if args.all:
        nets = NETS
    else:
        nets = [(args.arch, b) for b in args.batch]
    out = []
    for arch, batch in nets:
        for act in args.act:
            for loss in args.loss:
                for dtype in args.dtype:
                    for threads in args.threads:
                        out.append({"arch": arch, "batch": batch, "act": act, "loss": loss, "dtype": dtype,
                                    "threads": threads, "block": args.block})
    return out


def csv(kind):
    return lambda s: [kind(x) for x in s.split(",") if x]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", default="784,512,512,10")
    ap.add_argument("--batch", type=csv(int), default=[256], help="comma-separated batch sizes")
    ap.add_argument("--act", type=csv(str), default=["relu"], help="comma-separated, e.g. relu,tanh")
    ap.add_argument("--loss", type=csv(str), default=["ce"], help="ce,mse")
    ap.add_argument("--dtype", type=csv(str), default=["f32", "f64"], help="f32,f64")
    ap.add_argument("--threads", type=csv(int), default=[2])
    ap.add_argument("--block", type=int, default=16)
    ap.add_argument("--all", action="store_true",
                    help="every network/batch of the benchmark issue (with --act/--loss/--dtype/--threads)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--warmup-seconds", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-block", action="store_true", help="skip the vmap'd block HVP")
    ap.add_argument("--no-hvp4j", action="store_true", help="time PyTorch only")
    ap.add_argument("--check", action="store_true", help="verify torch == hvp4j numerically and exit")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("--markdown", action="store_true")
    args = ap.parse_args(argv)
    for a in args.act:
        if a not in ACTIVATIONS:
            ap.error("unknown activation '%s' (%s)" % (a, ", ".join(ACTIVATIONS)))
    for dt in args.dtype:
        if dt not in DTYPES:
            ap.error("unknown dtype '%s' (f32 or f64)" % dt)
    for lo in args.loss:
        if lo not in ("ce", "mse"):
            ap.error("unknown loss '%s' (ce or mse)" % lo)
    if args.reps < 1 or args.block < 1 or min(args.threads) < 1 or min(args.batch) < 1:
        ap.error("--reps, --block, --threads and --batch must be positive")
    if args.check:
        return 0 if check(args) else 1
    results = []
    for cfg in configs(args):
        print("pytorch_peer: " + describe(cfg), file=sys.stderr, flush=True)
        t = time_torch(cfg, args)
        h = {} if args.no_hvp4j else run_hvp4j(cfg, args)
        results.append({"config": cfg, "torch": t, "hvp4j": h})
    meta = {"torch": torch.__version__, "functional_api": FUNC_API, "reps": args.reps}
    if args.json:
        print(json.dumps({"meta": meta, "results": results}, indent=1))
    elif args.no_hvp4j:
        for r in results:
            print(describe(r["config"]), json.dumps(r["torch"]))
    elif args.markdown:
        print_markdown(results, argv)
    else:
        print_table(results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
