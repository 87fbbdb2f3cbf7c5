#!/usr/bin/env python3
"""PyTorch side of Kiln's CPU benchmarks (bench/README.md).

Runs the same workloads as bench/Kiln.Bench, with the same names and the same timing procedure, and
prints JSON lines: one {"type": "settings", ...} record, then one {"type": "result", ...} per workload.
PyTorch runs at its best settings on this machine: the thread count is fixed before torch is imported
(OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS) and again with torch.set_num_threads, OpenMP
threads wait passively (OMP_WAIT_POLICY=PASSIVE) so OpenMP and OpenBLAS do not spin against each other
on the same cores, and denormals are flushed to zero.

    /usr/bin/python3 bench/peers/torch_bench.py --group gemm --threads 2
    /usr/bin/python3 bench/peers/torch_bench.py --probe      # prints the torch version, or exits 3
    /usr/bin/python3 bench/peers/torch_bench.py --export-onnx DIR   # the infer models for bench/peers/ort_bench.js

The infer group reports several systems per workload: "torch" (eager, no_grad, eval) and two TorchScript
variants, "torchscript-freeze" (torch.jit.trace + torch.jit.freeze) and "torchscript-ofi"
(torch.jit.trace + torch.jit.optimize_for_inference); Kiln.Bench's report takes the faster as TorchScript.
"""

import argparse
import json
import math
import os
import sys
import time

GROUPS = ("gemm", "eager", "conv", "ops", "infer")

GEMM_SHAPES = [
    (64, 64, 64), (128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
    (64, 784, 256), (256, 784, 256), (64, 3136, 1024),
]

MIN_REPS = 3


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--group", choices=GROUPS, action="append",
                   help="workload group (repeatable; default: all)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--filter", default=None, help="only workloads whose name contains this text")
    p.add_argument("--reps", type=int, default=9)
    p.add_argument("--rep-ms", type=float, default=25.0)
    p.add_argument("--warmup-ms", type=float, default=500.0)
    p.add_argument("--first-warmup-ms", type=float, default=2000.0,
                   help="warm-up of the first workload of the process")
    p.add_argument("--max-ms", type=float, default=3000.0)
    p.add_argument("--probe", action="store_true", help="print the torch version and exit")
    p.add_argument("--export-onnx", metavar="DIR", default=None,
                   help="export the infer group's models with torch.onnx.export into DIR (with manifest.json) and exit")
    return p.parse_args()


def configure_threads(threads):
    """Must run before `import torch`: OpenMP and OpenBLAS size their pools at load time."""
    n = str(threads)
    os.environ["OMP_NUM_THREADS"] = n
    os.environ["OPENBLAS_NUM_THREADS"] = n
    os.environ["MKL_NUM_THREADS"] = n
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"


def quantile(values, q):
    """Linear interpolation between order statistics, as Kiln.Bench's Statistics.Quantile."""
    s = sorted(values)
    pos = q * (len(s) - 1)
    below = int(math.floor(pos))
    above = min(below + 1, len(s) - 1)
    return s[below] + (s[above] - s[below]) * (pos - below)


def time_batch(call, count):
    start = time.perf_counter()
    for _ in range(count):
        call()
    return time.perf_counter() - start


def measure(call, o, first):
    """Warm-up, calibration and timed repetitions, as Kiln.Bench's Measurement.Run: seconds per call per repetition."""
    warmup_ms = max(o.warmup_ms, o.first_warmup_ms) if first else o.warmup_ms
    start = time.perf_counter()
    warm = 0
    while warm < 2 or (time.perf_counter() - start) * 1000 < warmup_ms:
        call()
        warm += 1

    rep_seconds = o.rep_ms / 1000
    batch = 1
    while True:
        seconds = time_batch(call, batch)
        per_call = seconds / batch
        if seconds >= rep_seconds / 2 or batch >= 1 << 22:
            break
        batch *= 2
    inner = max(1, int(round(rep_seconds / per_call)))
    reps = max(MIN_REPS, o.reps)
    if reps * inner * per_call * 1000 > o.max_ms:
        reps = max(MIN_REPS, int(o.max_ms / (inner * per_call * 1000)))
    return [time_batch(call, inner) / inner for _ in range(reps)], inner


def to_unit(unit, seconds, flops):
    if unit == "GFLOP/s":
        return flops / seconds / 1e9
    if unit == "us":
        return seconds * 1e6
    return seconds * 1e3


def gemm_name(m, k, n):
    return f"matmul {m}x{k} @ {k}x{n}"


def gemm_workloads(torch):
    def prepare(m, k, n):
        a = torch.randn(m, k)
        b = torch.randn(k, n)
        return lambda: torch.mm(a, b)

    for m, k, n in GEMM_SHAPES:
        yield "gemm", gemm_name(m, k, n), "GFLOP/s", 2.0 * m * k * n, (lambda m=m, k=k, n=n: prepare(m, k, n))


def eager_workloads(torch):
    F = torch.nn.functional

    def add():
        a = torch.ones(1)
        b = torch.ones(1)
        return lambda: a + b

    def linear():
        x = torch.randn(1, 64)
        w = torch.randn(10, 64)
        b = torch.randn(10)
        return lambda: F.linear(x, w, b)

    def mlp(backward):
        sizes = [784, 256, 128, 10]
        params = []
        for i in range(len(sizes) - 1):
            w = torch.empty(sizes[i + 1], sizes[i]).uniform_(-0.05, 0.05).requires_grad_(backward)
            b = torch.zeros(sizes[i + 1]).requires_grad_(backward)
            params += [w, b]
        x = torch.rand(1, 784)
        label = torch.tensor([3])

        def forward():
            h = F.relu(F.linear(x, params[0], params[1]))
            h = F.relu(F.linear(h, params[2], params[3]))
            return F.linear(h, params[4], params[5])

        if not backward:
            def call():
                with torch.no_grad():
                    forward()
            return call

        def call():
            F.cross_entropy(forward(), label).backward()
            for p in params:
                p.grad = None
        return call

    yield "eager", "add 1-element", "us", 0.0, add
    yield "eager", "linear 64->10 b1", "us", 0.0, linear
    yield "eager", "mlp 784-256-128-10 fwd b1", "us", 0.0, lambda: mlp(False)
    yield "eager", "mlp 784-256-128-10 fwd+bwd b1", "us", 0.0, lambda: mlp(True)


def conv_workloads(torch):
    F = torch.nn.functional

    def conv(channels, size, filters, backward):
        x = torch.randn(64, channels, size, size)
        w = torch.empty(filters, channels, 5, 5).uniform_(-0.1, 0.1)
        b = torch.zeros(filters)
        grad_output = torch.randn(64, filters, size, size)
        if not backward:
            def call():
                with torch.no_grad():
                    F.conv2d(x, w, b, padding=2)
            return call
        leaves = [t.requires_grad_(True) for t in (x, w, b)]

        def call():
            F.conv2d(x, w, b, padding=2).backward(grad_output)
            for t in leaves:
                t.grad = None
        return call

    for name, c, hw, filters in (("conv1 64x1x28x28 k32 5x5", 1, 28, 32), ("conv2 64x32x14x14 k64 5x5", 32, 14, 64)):
        flops = 2.0 * 64 * filters * c * 25 * hw * hw
        yield "conv", name + " fwd", "ms", flops, (lambda c=c, hw=hw, f=filters: conv(c, hw, f, False))
        yield "conv", name + " fwd+bwd", "ms", 3 * flops, (lambda c=c, hw=hw, f=filters: conv(c, hw, f, True))


def ops_workloads(torch):
    """Per-op costs of the Fashion-MNIST CNN/MLP step at batch 64, as Kiln.Bench's OpsWorkloads."""
    F = torch.nn.functional

    def forward(make, op):
        def prepare():
            inputs = make()

            def call():
                with torch.no_grad():
                    op(inputs)
            return call
        return prepare

    def forward_backward(make, op):
        def prepare():
            inputs = make()
            for t in inputs:
                t.requires_grad_(t.is_floating_point())
            with torch.no_grad():
                y = op(inputs)
            grad_output = torch.randn_like(y) if y.numel() > 1 else None

            def call():
                op(inputs).backward(grad_output)
                for t in inputs:
                    t.grad = None
            return call
        return prepare

    def both(name, make, op):
        yield "ops", name + " fwd", "us", 0.0, forward(make, op)
        yield "ops", name + " fwd+bwd", "us", 0.0, forward_backward(make, op)

    for shape in ((64, 32, 28, 28), (64, 64, 14, 14)):
        dims = "x".join(map(str, shape))
        yield from both(f"relu {dims}", lambda s=shape: [torch.randn(*s)], lambda x: F.relu(x[0]))
        yield from both(f"maxpool2 {dims}", lambda s=shape: [torch.randn(*s)], lambda x: F.max_pool2d(x[0], 2))
    for n in (64, 256):
        yield from both(f"cross_entropy {n}x10", lambda n=n: [torch.randn(n, 10), torch.randint(10, (n,))],
                        lambda x: F.cross_entropy(x[0], x[1]))
    for n, c in ((64, 10), (256, 1000)):
        yield from both(f"softmax {n}x{c}", lambda n=n, c=c: [torch.randn(n, c)], lambda x: F.softmax(x[0], 1))
        yield from both(f"log_softmax {n}x{c}", lambda n=n, c=c: [torch.randn(n, c)], lambda x: F.log_softmax(x[0], 1))

    def batch_norm(backward):
        running_mean, running_var = torch.zeros(32), torch.ones(32)
        make = lambda: [torch.randn(64, 32, 28, 28), torch.ones(32), torch.zeros(32)]
        op = lambda x: F.batch_norm(x[0], running_mean, running_var, x[1], x[2], training=True)
        return (forward_backward if backward else forward)(make, op)

    yield "ops", "batchnorm2d 64x32x28x28 train fwd", "us", 0.0, batch_norm(False)
    yield "ops", "batchnorm2d 64x32x28x28 train fwd+bwd", "us", 0.0, batch_norm(True)
    for n, d in ((64, 1024), (1024, 1024)):
        yield "ops", f"sum {n}x{d}", "us", 0.0, forward(lambda n=n, d=d: [torch.randn(n, d)], lambda x: x[0].sum())
        yield "ops", f"mean {n}x{d}", "us", 0.0, forward(lambda n=n, d=d: [torch.randn(n, d)], lambda x: x[0].mean())
    yield "ops", "sum dim0 64x1024", "us", 0.0, forward(lambda: [torch.randn(64, 1024)], lambda x: x[0].sum(0))
    yield from both("bias add 64x1024+1024", lambda: [torch.randn(64, 1024), torch.randn(1024)], lambda x: x[0] + x[1])


INFER_BATCHES = (1, 64)


def infer_models(torch):
    """The infer group's workloads, as Kiln.Bench's InferenceWorkloads: (name, unit, model in eval mode, input)."""
    nn = torch.nn
    for batch in INFER_BATCHES:
        mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
        yield f"mlp 784-256-128-10 b{batch}", "us", mlp.eval(), torch.rand(batch, 784)
        cnn = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024, 10))
        yield f"cnn fashion-mnist b{batch}", "us" if batch == 1 else "ms", cnn.eval(), torch.rand(batch, 1, 28, 28)


def infer_workloads(torch):
    """PyTorch eager (no_grad, eval) and TorchScript traced then frozen, or optimized for inference."""
    def eager(model, x):
        def call():
            with torch.no_grad():
                model(x)
        return call

    def scripted(model, x, optimize):
        with torch.no_grad():
            traced = torch.jit.trace(model, x).eval()
            module = torch.jit.optimize_for_inference(traced) if optimize else torch.jit.freeze(traced)
        return eager(module, x)

    for name, unit, model, x in infer_models(torch):
        yield "infer", name, unit, 0.0, (lambda m=model, x=x: eager(m, x)), "torch"
        yield "infer", name, unit, 0.0, (lambda m=model, x=x: scripted(m, x, False)), "torchscript-freeze"
        yield "infer", name, unit, 0.0, (lambda m=model, x=x: scripted(m, x, True)), "torchscript-ofi"


def export_onnx(torch, directory):
    """Writes each infer model with torch.onnx.export (static shapes, opset 13, constant folding) and
    manifest.json listing name, file, input shape and unit, which bench/peers/ort_bench.js reads.
    torch.onnx.export serializes the protobuf itself: the `onnx` Python package is not needed."""
    os.makedirs(directory, exist_ok=True)
    manifest = []
    for name, unit, model, x in infer_models(torch):
        file = name.replace(" ", "-") + ".onnx"
        with torch.no_grad():
            torch.onnx.export(model, x, os.path.join(directory, file), input_names=["x"], output_names=["y"],
                              opset_version=13, do_constant_folding=True)
        manifest.append({"name": name, "file": file, "shape": list(x.shape), "unit": unit})
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump({"torch": torch.__version__, "opset": 13, "models": manifest}, f, indent=1)


def settings(torch, threads):
    config = torch.__config__.show()
    blas = loaded_blas() or next((line.split("=", 1)[1].strip() for line in config.splitlines() if "BLAS_INFO" in line), "unknown")
    parallel = torch.__config__.parallel_info().splitlines()
    backend = next((line.split(":", 1)[1].strip() for line in parallel if "parallel backend" in line), "unknown")
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": f"torch.set_num_threads({threads}) -> get_num_threads() = {torch.get_num_threads()}",
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "flush denormal": "on" if torch.set_flush_denormal(True) else "unsupported",
        "blas": blas,
        "parallel backend": backend,
        "mkldnn (oneDNN) for conv": str(torch.backends.mkldnn.is_available()),
        "cpu capability": cpu_capability(torch),
    }


def loaded_blas():
    """The BLAS library actually mapped into this process (Debian's torch links the libblas.so.3 alternative)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line.lower() and "/" in line}
    except OSError:
        return None
    return ", ".join(sorted(os.path.basename(p) for p in paths if "lapack" not in p)) or None


def cpu_capability(torch):
    """The SIMD level ATen dispatches to (torch >= 2.0 reports it directly; 1.13 only in its config text)."""
    get = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    if get is not None:
        return get()
    line = next((l for l in torch.__config__.show().splitlines() if "CPU capability usage" in l), None)
    return line.split(":", 1)[1].strip() if line else "unknown"


def main():
    o = parse_args()
    configure_threads(o.threads)
    try:
        import torch
    except ImportError as e:
        print(f"cannot import torch: {e}", file=sys.stderr)
        return 3
    if o.probe:
        print(f"torch {torch.__version__} ({sys.executable})")
        return 0
    if o.export_onnx:
        torch.manual_seed(0)
        export_onnx(torch, o.export_onnx)
        return 0

    torch.set_num_threads(o.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    print(json.dumps({"type": "settings", "impl": "torch", "threads": o.threads, "settings": settings(torch, o.threads)}),
          flush=True)

    groups = o.group or list(GROUPS)
    first = True
    sources = {"gemm": gemm_workloads, "eager": eager_workloads, "conv": conv_workloads, "ops": ops_workloads,
               "infer": infer_workloads}
    for group in groups:
        for _, name, unit, flops, prepare, *variant in sources[group](torch):
            impl = variant[0] if variant else "torch"
            if o.filter and o.filter.lower() not in name.lower():
                continue
            call = prepare()
            seconds, inner = measure(call, o, first)
            first = False
            del call
            samples = [to_unit(unit, s, flops) for s in seconds]
            print(json.dumps({
                "type": "result", "impl": impl, "group": group, "name": name, "threads": o.threads, "unit": unit,
                "median": quantile(samples, 0.5), "q1": quantile(samples, 0.25), "q3": quantile(samples, 0.75),
                "reps": len(samples), "inner": inner, "samples": samples,
            }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
