using System.Diagnostics;

namespace Kiln.Tests.Tensors;

/// <summary>A training-like loop under Engine.Scope must not leak a byte of tensor memory.</summary>
[Collection(MemoryCollection.Name)]
public sealed class MemoryTrainingLoopTests
{
    [Fact]
    public void Ten_thousand_training_steps_return_memory_to_the_baseline()
    {
        var rng = new Random(11);
        float[] Random(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

        var w = Tensor.From<float>(Random(16 * 8, 0.1), 16, 8);
        w.RequiresGrad = true;
        var b = Tensor.Zeros([8]);
        b.RequiresGrad = true;
        var x = Tensor.From<float>(Random(4 * 16, 1), 4, 16);

        MemoryCollection.WarmScalars(0.5, -0.01);
        long baseline = MemoryCollection.Settle().BytesInUse;
        var clock = Stopwatch.StartNew();
        float firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 10_000; step++)
        {
            using (var scope = Engine.Scope())
            {
                // h[n, k] = sum_j x[n, j] w[j, k] + b[k]
                var h = (x.Reshape(4, 16, 1).Expand(4, 16, 8) * w).Sum(1) + b;
                var loss = (h * 0.5f).Exp().Sum();
                loss.Backward();
                lastLoss = loss.Item<float>();
                if (step == 0) firstLoss = lastLoss;
                using (Engine.NoGrad())
                {
                    w.MulInPlace(Tensor.Scalar(0.9999f));   // weight decay
                    w.AddInPlace(w.Grad! * -0.01);
                    b.AddInPlace(b.Grad! * -0.01);
                }
                w.Grad!.Dispose();
                w.Grad = null;
                b.Grad!.Dispose();
                b.Grad = null;
            }
            if (step % 1000 == 0)
                Assert.True(baseline == Engine.MemoryStats().BytesInUse, $"step {step}: {Engine.MemoryStats().BytesInUse - baseline} bytes above the baseline");
        }
        Assert.Equal(baseline, Engine.MemoryStats().BytesInUse);
        Assert.True(float.IsFinite(lastLoss) && lastLoss < firstLoss, $"loss went from {firstLoss} to {lastLoss}");
        Assert.True(w.IsLeaf && w.RequiresGrad && b.IsLeaf);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"10,000 steps took {clock.Elapsed}");
    }
}
