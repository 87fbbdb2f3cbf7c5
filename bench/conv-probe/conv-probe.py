# The same layers as Program.cs in PyTorch; run with
# OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 conv-probe.py
import sys, time, torch
import torch.nn.functional as F
torch.set_num_threads(2)
torch.set_flush_denormal(True)
reps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
x1 = torch.randn(64, 1, 28, 28); w1 = torch.randn(32, 1, 5, 5)
x2 = torch.randn(64, 32, 14, 14); w2 = torch.randn(64, 32, 5, 5)
p1 = torch.randn(64, 32, 28, 28); p2 = torch.randn(64, 64, 14, 14)
g1 = torch.randn(64, 32, 28, 28); g2 = torch.randn(64, 64, 14, 14)
gp1 = torch.randn(64, 32, 14, 14); gp2 = torch.randn(64, 64, 7, 7)
def fwd(x, w):
    with torch.no_grad(): F.conv2d(x, w, padding=2)
def both(x, w, g, ig):
    xx = x.clone().requires_grad_(True) if ig else x
    ww = w.clone().requires_grad_(True)
    F.conv2d(xx, ww, padding=2).backward(g)
def pool(x):
    with torch.no_grad(): F.max_pool2d(x, 2)
def poolboth(x, g):
    xx = x.clone().requires_grad_(True)
    F.max_pool2d(xx, 2).backward(g)
cases = [("conv1 fwd", lambda: fwd(x1, w1)), ("conv1 fwd+bwd (w)", lambda: both(x1, w1, g1, False)),
         ("conv1 fwd+bwd (x,w)", lambda: both(x1, w1, g1, True)), ("conv2 fwd", lambda: fwd(x2, w2)),
         ("conv2 fwd+bwd (x,w)", lambda: both(x2, w2, g2, True)), ("pool1 fwd", lambda: pool(p1)),
         ("pool1 fwd+bwd", lambda: poolboth(p1, gp1)), ("pool2 fwd", lambda: pool(p2)), ("pool2 fwd+bwd", lambda: poolboth(p2, gp2))]
for name, run in cases:
    for _ in range(5): run()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); run(); ts.append((time.perf_counter() - t) * 1000)
    ts.sort()
    print(f"{name:<22} {ts[reps // 2]:8.3f} ms")
