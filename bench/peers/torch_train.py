#!/usr/bin/env python3
"""PyTorch side of Kiln's training benchmark (bench/README.md, "train").

Trains one workload on real Fashion-MNIST (Debian's dataset-fashion-mnist, or --data DIR) in a
PyTorch-style loop and prints one JSON line: images per second over each full epoch, test accuracy
after each epoch, the wall time at which test accuracy first reached --target, and the peak RSS of
the process. The recipes are the ones Kiln's side runs (bench/Kiln.Bench/Training):

  mlp-b64, mlp-b256   784-256-128-10 ReLU MLP, Adam 1e-3, batch 64 / 256
  cnn-b64             conv5x5(32,'same')+ReLU, maxpool 2, conv5x5(64,'same')+ReLU, maxpool 2,
                      dense 1024+ReLU, dropout 0.4, dense 10; Adam 1e-3, batch 64

PyTorch runs at its best settings here: 2 threads (or --threads), OMP_WAIT_POLICY=PASSIVE,
OMP/OpenBLAS/MKL thread counts set before torch is imported, and torch.set_flush_denormal(True)
(Adam's state goes subnormal on Fashion-MNIST, which is slow on this CPU). Batches are taken by
indexing the in-memory tensors with a seeded permutation, the fastest way PyTorch offers.

    /usr/bin/python3 bench/peers/torch_train.py --workload cnn-b64 --epochs 3 --target 0.90
"""

import argparse
import gzip
import json
import os
import resource
import struct
import sys
import time

WORKLOADS = ("mlp-b64", "mlp-b256", "cnn-b64")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workload", choices=WORKLOADS, required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--target", type=float, default=None, help="stop after the epoch whose test accuracy reaches this")
    p.add_argument("--evals-per-epoch", type=int, default=1,
                   help="with --target, also check test accuracy after each K-th of an epoch (counted in the wall time only)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    return p.parse_args()


def read_idx(path, expected_dims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    dims = magic & 0xFF
    if magic >> 8 != 0x08 or dims != expected_dims:
        raise SystemExit(f"{path}: not an idx ubyte file with {expected_dims} dimensions")
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return shape, data[4 + 4 * dims:]


def load(torch, directory, split):
    prefix = "train" if split == "train" else "t10k"
    shape, pixels = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), 3)
    _, labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), 1)
    images = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(shape[0], 1, shape[1], shape[2])
    return images.float().div_(255.0), torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()


def build(torch, workload):
    nn = torch.nn
    if workload.startswith("mlp"):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.4), nn.Linear(1024, 10))


def evaluate(torch, model, images, labels):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(labels), 1000):
            logits = model(images[start:start + 1000])
            correct += (logits.argmax(1) == labels[start:start + 1000]).sum().item()
    model.train()
    return correct / len(labels)


def main():
    o = parse_args()
    n = str(o.threads)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = n
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    import torch
    torch.set_num_threads(o.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(o.seed)

    train_x, train_y = load(torch, o.data, "train")
    test_x, test_y = load(torch, o.data, "test")
    batch = 256 if o.workload == "mlp-b256" else 64
    model = build(torch, o.workload)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(o.seed)

    epochs = []
    checks = []
    reached = None
    batches = (len(train_y) + batch - 1) // batch
    every = (batches + o.evals_per_epoch - 1) // max(1, o.evals_per_epoch)
    run_start = time.perf_counter()
    for epoch in range(1, o.epochs + 1):
        order = torch.randperm(len(train_y), generator=generator)
        start_time = time.perf_counter()
        loss_sum = 0.0
        evaluating = 0.0
        for done, start in enumerate(range(0, len(train_y), batch)):
            if o.target is not None and o.evals_per_epoch > 1 and done > 0 and done % every == 0:
                eval_start = time.perf_counter()
                partial = evaluate(torch, model, test_x, test_y)
                evaluating += time.perf_counter() - eval_start
                checks.append({"epoch": epoch - 1 + done / batches, "test_accuracy": partial, "wall": time.perf_counter() - run_start})
                if partial >= o.target:
                    reached = time.perf_counter() - run_start
                    break
            index = order[start:start + batch]
            x, y = train_x[index], train_y[index]
            loss = loss_fn(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(index)
        if reached is not None:
            break
        seconds = time.perf_counter() - start_time - evaluating
        accuracy = evaluate(torch, model, test_x, test_y)
        wall = time.perf_counter() - run_start
        epochs.append({"epoch": epoch, "seconds": seconds, "images_per_s": len(train_y) / seconds,
                       "loss": loss_sum / len(train_y), "test_accuracy": accuracy})
        checks.append({"epoch": float(epoch), "test_accuracy": accuracy, "wall": wall})
        print(f"epoch {epoch}: {len(train_y) / seconds:.0f} images/s, test accuracy {accuracy:.4f}", file=sys.stderr)
        if o.target is not None and accuracy >= o.target:
            reached = wall
            break

    print(json.dumps({
        "type": "train", "impl": "torch", "workload": o.workload, "threads": o.threads, "batch": batch,
        "torch": torch.__version__, "epochs": epochs, "seconds_to_target": reached, "target": o.target,
        "evals_per_epoch": o.evals_per_epoch, "checks": checks,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main()
