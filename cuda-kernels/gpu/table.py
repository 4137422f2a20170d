#!/usr/bin/env python3
"""Reads the JSON lines of GpuBenchmark and torch_hvp.py (stdin) and prints one Markdown table: hvp4j's median,
PyTorch's best method's median, and PyTorch/hvp4j (>= 1.0 means hvp4j is at least as fast)."""
import json
import sys

rows = {}
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    r = json.loads(line)
    key = (r["arch"], r["batch"], r["dtype"], r["op"])
    rows.setdefault(key, {})[r["impl"]] = r.get("median_ms", float("nan"))

print("| arch | B | dtype | op | hvp4j ms | torch best ms (method) | torch/hvp4j |")
print("|---|---|---|---|---|---|---|")
for (arch, b, dt, op), impls in sorted(rows.items()):
    ours = impls.get("hvp4j", float("nan"))
    peers = {k: v for k, v in impls.items() if k != "hvp4j" and v == v}
    best = min(peers.items(), key=lambda kv: kv[1]) if peers else ("none", float("nan"))
    ratio = best[1] / ours if ours == ours and ours > 0 else float("nan")
    print(f"| {arch} | {b} | {dt} | {op} | {ours:.3f} | {best[1]:.3f} ({best[0]}) | {ratio:.2f} |")
