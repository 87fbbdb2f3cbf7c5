using Kiln.Kernels.Cpu;

namespace Kiln.Bench.Workloads;

/// <summary>
/// float32 matrix products C[m,n] = A[m,k]·B[k,n]: square sizes and the shapes of the Fashion-MNIST
/// models (MLP layers at batch 64 and 256, the CNN's fully connected layer). "gemm" goes through the
/// public op (<c>a.MatMul(b)</c>, output from the pool); "gemm-kernel" calls the raw kernel into a
/// preallocated C, which isolates the op's own overhead.
/// </summary>
internal static class GemmWorkloads
{
    internal static readonly (int M, int K, int N)[] Shapes =
    [
        (64, 64, 64), (128, 128, 128), (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048),
        (64, 784, 256), (256, 784, 256), (64, 3136, 1024),
    ];

    /// <summary>The workload name both runners use: "matmul 64x784 @ 784x256".</summary>
    internal static string Name(int m, int k, int n) => $"matmul {m}x{k} @ {k}x{n}";

    internal static IEnumerable<Workload> All()
    {
        foreach (var (m, k, n) in Shapes)
            yield return new Workload("gemm", Name(m, k, n), Unit.GflopPerSecond, 2.0 * m * k * n, () => Op(m, k, n));
        foreach (var (m, k, n) in Shapes)
            yield return new Workload("gemm-kernel", Name(m, k, n), Unit.GflopPerSecond, 2.0 * m * k * n, () => Kernel(m, k, n));
    }

    private static PreparedCall Op(int m, int k, int n)
    {
        var a = Tensor.Randn([m, k]);
        var b = Tensor.Randn([k, n]);
        return new PreparedCall(() =>
        {
            using var c = a.MatMul(b);
        }, a, b);
    }

    private static unsafe PreparedCall Kernel(int m, int k, int n)
    {
        var a = Tensor.Randn([m, k]);
        var b = Tensor.Randn([k, n]);
        var c = Tensor.Zeros([m, n]);
        float* pa = a.Pointer<float>(), pb = b.Pointer<float>(), pc = c.Pointer<float>();
        return new PreparedCall(() => GemmKernel.Multiply(false, false, m, n, k, pa, k, pb, n, pc, n), a, b, c);
    }
}
