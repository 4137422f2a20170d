#!/usr/bin/env python3
"""Prints what C2 made of the GEMM micro-kernels' inner loop: FMAs, instructions, vector spills, stores.

Usage: python3 benchmarks/asm/kernel_loop.py [JVM flags...]   e.g.  -XX:UseAVX=2   or   -XX:UseAVX=2 -Dhvp4j.gemm.rows=4

Needs the HotSpot disassembler plugin (Debian: apt-get install libhsdis0-fcml, then copy
/usr/lib/x86_64-linux-gnu/libhsdis.so.0 to $JAVA_HOME/lib/hsdis-amd64.so), objdump (binutils) and a built
benchmarks/target/benchmarks.jar. The plugin prints raw bytes here; objdump decodes them. The loop reported is the
backward branch with the most FMAs in the last C2 compilation of each kernel. A spill-free kernel shows
"vector spills 0"; the numbers recorded in benchmarks/RESULTS.md came from this script.
"""
import os
import re
import subprocess
import sys
import tempfile

JAVA = os.path.join(os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64"), "bin", "java")
JAR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "benchmarks.jar")
KERNELS = [("kernelF32", "f32"), ("kernel4F32", "f32"), ("kernelF64", "f64"), ("kernel4F64", "f64")]


def code_bytes(text, method):
    """Bytes of the last C2 (non-OSR) compilation of method in -XX:+PrintAssembly output."""
    starts = [m.end() for m in re.finditer(r"Compiled method \(c2\)[^\n]*::%s \(" % method, text)]
    if not starts:
        return None
    out = bytearray()
    for line in text[starts[-1]:].split("\n"):
        if line.startswith("[Stub Code]") or line.startswith("[Exception Handler]"):
            break
        m = re.match(r"\s*0x[0-9a-f]+: ([0-9a-f |]+)$", line)
        if m:
            out += bytes.fromhex(m.group(1).replace("|", "").replace(" ", ""))
    return bytes(out)


def hottest_loop(code):
    with tempfile.NamedTemporaryFile(suffix=".bin") as f:
        f.write(code)
        f.flush()
        dis = subprocess.run(["objdump", "-D", "-b", "binary", "-mi386:x86-64", f.name],
                             capture_output=True, text=True, check=True).stdout
    # objdump continues long instructions on a line without a mnemonic: keep only lines with one
    lines = [l for l in dis.split("\n") if re.match(r"\s+[0-9a-f]+:\t[^\t]+\t\S", l)]
    addr = [int(l.split(":")[0], 16) for l in lines]
    best = None
    for i, l in enumerate(lines):
        m = re.search(r"\tj[a-z]+\s+0x([0-9a-f]+)", l)
        if not m or int(m.group(1), 16) >= addr[i] or int(m.group(1), 16) not in addr:
            continue
        body = lines[addr.index(int(m.group(1), 16)):i + 1]
        fmas = sum("vfmadd" in b for b in body)
        if best is None or fmas > best[0]:
            spills = sum("rsp" in b and "mm" in b for b in body)
            stores = sum(bool(re.search(r"\tv?mov\S*\s+%\S+,-?0x[0-9a-f]+\(%", b)) for b in body)
            best = (fmas, len(body), spills, stores)
    return best


def main():
    flags = sys.argv[1:]
    for method, prec in KERNELS:
        cmd = [JAVA, *flags, "-XX:+UnlockDiagnosticVMOptions", "-XX:CompileCommand=quiet",
               "-XX:CompileCommand=print,io.hvp4j.backend.vector.VectorGemm::" + method,
               "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-cp", JAR,
               "io.hvp4j.benchmarks.GemmReport", "--rounds", "1", "--threads", "1", "--precisions", prec,
               "--shapes", "1024"]
        text = subprocess.run(cmd, capture_output=True, text=True).stdout
        if "Could not load hsdis" in text:
            sys.exit("kernel_loop: the HotSpot disassembler plugin is missing (see the comment at the top)")
        code = code_bytes(text, method)
        if code is None:
            print(f"{method}: not compiled by C2 in this JVM (not the selected tile)")
            continue
        fmas, n, spills, stores = hottest_loop(code)
        print(f"{method}: loop of {n} instructions, {fmas} FMAs, vector spills {spills}, stores {stores}")


if __name__ == "__main__":
    main()
