#!/usr/bin/env python3
"""PyTorch peer of GpuBenchmark: HVP and block HVP (16 vectors) of a relu MLP with mean cross-entropy, each
from scratch, data/parameters/vectors on the GPU, TF32 off. Two HVP methods, the faster one is the peer:
double backward (autograd.grad twice; block: is_grads_batched) and torch.func.jvp(grad) (block: vmap).
CUDA events, median of REPS after WARMUP. Prints one JSON object per line (impl, arch, batch, dtype, op, device,
median_ms). DEVICE is cuda (default; exits 2 with a message when torch sees no GPU, never falls back) or cpu (the
dry run of gpu-check.sh: wall-clock timings). torch >= 2.0 (torch.func) or 1.13 (functorch, Debian's python3-torch).
Usage: torch_hvp.py ARCH BATCH DTYPE [REPS] [WARMUP] [DEVICE]"""
import json
import statistics
import sys

import time as wallclock

import torch

try:  # torch >= 2.0
    from torch.func import functional_call, grad, jvp, vmap
    TORCH_1 = False
except ImportError:  # torch 1.13
    from functorch import grad, jvp, vmap
    from torch.nn.utils.stateless import functional_call
    TORCH_1 = True

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.set_float32_matmul_precision("highest")


def main():
    arch, batch, dtname = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    warmup = int(sys.argv[5]) if len(sys.argv) > 5 else 5
    device = sys.argv[6] if len(sys.argv) > 6 else "cuda"
    dtype = {"f32": torch.float32, "f64": torch.float64}[dtname]
    if device == "cuda" and not torch.cuda.is_available():
        print(f"torch_hvp: torch {torch.__version__} sees no CUDA device (asked for cuda; no fallback to the CPU)",
              file=sys.stderr)
        sys.exit(2)
    if device not in ("cuda", "cpu"):
        print(f"torch_hvp: unknown device {device!r} (cuda or cpu)", file=sys.stderr)
        sys.exit(2)
    dev = torch.device(device)
    widths = [int(w) for w in arch.split(",")]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(dev, dtype)
    g = torch.Generator(device=dev).manual_seed(0)
    x = torch.randn(batch, widths[0], device=dev, dtype=dtype, generator=g)
    y = torch.randint(0, widths[-1], (batch,), device=dev, generator=g)
    names = [n for n, _ in model.named_parameters()]
    params = tuple(p.detach() for p in model.parameters())
    v1 = tuple(torch.randn(p.shape, device=dev, dtype=dtype, generator=g) for p in params)
    vb = tuple(torch.randn((16,) + p.shape, device=dev, dtype=dtype, generator=g) for p in params)

    def loss_of(ps):
        return torch.nn.functional.cross_entropy(functional_call(model, dict(zip(names, ps)), (x,)), y)

    def loss_of_fwd_ad(ps):
        # torch 1.13's nll_loss_backward has no forward-mode AD: the same loss as mean(logsumexp(f) - f_y) there.
        if not TORCH_1:
            return loss_of(ps)
        out = functional_call(model, dict(zip(names, ps)), (x,))
        return (torch.logsumexp(out, dim=1) - out.gather(1, y[:, None])[:, 0]).mean()

    def double_backward(v, batched):
        ps = tuple(p.clone().requires_grad_(True) for p in params)
        gr = torch.autograd.grad(loss_of(ps), ps, create_graph=True)
        return torch.autograd.grad(gr, ps, grad_outputs=v, is_grads_batched=batched)

    def jvp_grad(v):
        return jvp(grad(loss_of_fwd_ad), (params,), (v,))[1]

    def jvp_grad_block(v):
        return vmap(jvp_grad)(v)

    def elapsed_ms(fn):
        """One call of fn: CUDA events on the GPU, the wall clock on the CPU (dry run)."""
        if device == "cpu":
            t0 = wallclock.perf_counter()
            fn()
            return (wallclock.perf_counter() - t0) * 1e3
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        return a.elapsed_time(b)

    def time(fn):
        for _ in range(warmup):
            fn()
        if device == "cuda":
            torch.cuda.synchronize()
        return statistics.median([elapsed_ms(fn) for _ in range(reps)])

    # The two methods agree (sanity: a wrong peer would make the comparison meaningless).
    h1, h2 = double_backward(v1, False), jvp_grad(v1)
    num = sum(float(((a - b) ** 2).sum()) for a, b in zip(h1, h2)) ** 0.5
    den = sum(float((b ** 2).sum()) for b in h2) ** 0.5
    assert num <= (1e-3 if dtype == torch.float32 else 1e-10) * den, (num, den)

    for impl, op, fn in [("torch-double-backward", "hvp", lambda: double_backward(v1, False)),
                         ("torch-jvp-grad", "hvp", lambda: jvp_grad(v1)),
                         ("torch-double-backward", "block16", lambda: double_backward(vb, True)),
                         ("torch-jvp-grad", "block16", lambda: jvp_grad_block(vb))]:
        try:
            ms = time(fn)
        except RuntimeError as e:  # e.g. out of memory for the vmapped block
            print(json.dumps({"impl": impl, "arch": arch, "batch": batch, "dtype": dtname, "op": op,
                              "device": device, "error": str(e).splitlines()[0]}), flush=True)
            continue
        print(json.dumps({"impl": impl, "arch": arch, "batch": batch, "dtype": dtname, "op": op,
                          "device": device, "median_ms": round(ms, 4)}), flush=True)


if __name__ == "__main__":
    main()
