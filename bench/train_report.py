#!/usr/bin/env python3
"""Reads the JSON lines of bench/train.sh (one per training run) and prints a Markdown table:
median images/s over every full epoch of every round (and of first epochs alone), peak RSS, wall time to the target accuracy,
and the Kiln/PyTorch ratios."""

import json
import statistics
import sys


def main(path):
    runs = {}
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            if r.get("type") == "train":
                runs.setdefault((r["workload"], r["impl"]), []).append(r)
    print("| workload | Kiln images/s | Kiln compiled images/s | PyTorch images/s | Kiln/PyTorch | Kiln compiled/PyTorch | first epoch Kiln / compiled / PyTorch | Kiln peak RSS MB | PyTorch peak RSS MB | RSS ratio | "
          "Kiln s to target | PyTorch s to target | time ratio | Kiln last test acc | PyTorch last test acc |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for workload in ("mlp-b64", "mlp-b256", "cnn-b64"):
        k, t = runs.get((workload, "kiln"), []), runs.get((workload, "torch"), [])
        c = runs.get((workload, "kiln-compiled"), [])
        if not k and not t:
            continue

        def rate(rs):
            v = [e["images_per_s"] for r in rs for e in r["epochs"]]
            return statistics.median(v) if v else None

        def first(rs):
            v = [r["epochs"][0]["images_per_s"] for r in rs if r["epochs"]]
            return statistics.median(v) if v else None

        def rss(rs):
            v = [r["peak_rss_mb"] for r in rs]
            return statistics.median(v) if v else None

        def to_target(rs):
            v = [r["seconds_to_target"] for r in rs if r.get("seconds_to_target") is not None]
            return statistics.median(v) if v else None

        def acc(rs):
            return rs[-1]["epochs"][-1]["test_accuracy"] if rs else None

        def fmt(x, f="{:.0f}"):
            return "—" if x is None else f.format(x)

        def ratio(a, b):
            return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}"

        kr, tr, kt, tt = rate(k), rate(t), to_target(k), to_target(t)
        cr = rate(c)
        print(f"| {workload} | {fmt(kr)} | {fmt(cr)} | {fmt(tr)} | {ratio(kr, tr)} | {ratio(cr, tr)} | {fmt(first(k))} / {fmt(first(c))} / {fmt(first(t))} | {fmt(rss(k))} | {fmt(rss(t))} | {ratio(rss(k), rss(t))} | "
              f"{fmt(kt, '{:.1f}')} | {fmt(tt, '{:.1f}')} | {ratio(kt, tt)} | {fmt(acc(k), '{:.4f}')} | {fmt(acc(t), '{:.4f}')} |")
    print()
    print("images/s: median over every full training epoch of every round (evaluation excluded), and the first epochs alone "
          "(they include start-up: JIT compilation, and the first trace of compiled steps); peak RSS of each process; "
          "time to target: wall time of training plus evaluation until test accuracy first reaches the target (checked after each epoch, "
          "or after each K-th of an epoch with --evals-per-epoch K, the same on both sides). "
          "Both at the same thread count; PyTorch with OMP_WAIT_POLICY=PASSIVE and torch.set_flush_denormal(True).")


if __name__ == "__main__":
    main(sys.argv[1])
