using Kiln.Kernels.Cpu;

namespace Kiln.Bench.Workloads;

/// <summary>
/// The CNN's second convolution through the raw kernels into preallocated outputs (Kiln only): the
/// forward pass, the input gradient and the weight gradient separately, plus the one-image GEMM the
/// im2col path runs 64 times, so a profile shows which pass and which part of it loses time.
/// </summary>
internal static class ConvKernelWorkloads
{
    internal static IEnumerable<Workload> All()
    {
        var g = new ConvGeometry(64, 32, 14, 14, 64, 1, 5, 5, 1, 1, 2, 2, 1, 1, 14, 14);
        double flops = 2.0 * g.Batch * g.OutChannels * g.PatchSize * g.OutArea;
        yield return new Workload("conv-kernel", "conv2 kernel fwd", Unit.GflopPerSecond, flops, () => Pass(g, 0));
        yield return new Workload("conv-kernel", "conv2 kernel input grad", Unit.GflopPerSecond, flops, () => Pass(g, 1));
        yield return new Workload("conv-kernel", "conv2 kernel weight grad", Unit.GflopPerSecond, flops, () => Pass(g, 2));
        yield return new Workload("conv-kernel", "conv2 one-image gemm 64x800 @ 800x196 x64", Unit.GflopPerSecond, flops, () => ImageGemms(g));
    }

    private static unsafe PreparedCall Pass(ConvGeometry g, int pass)
    {
        var x = Tensor.Randn([g.Batch, g.Channels, g.Height, g.Width]);
        var w = Tensor.Randn([g.OutChannels, g.GroupChannels, g.KernelHeight, g.KernelWidth]);
        var y = Tensor.Randn([g.Batch, g.OutChannels, g.OutHeight, g.OutWidth]);
        float* px = x.Pointer<float>(), pw = w.Pointer<float>(), py = y.Pointer<float>();
        Action call = pass switch
        {
            0 => () => ConvKernel.Forward(g, px, pw, py),
            1 => () => ConvKernel.InputGrad(g, py, pw, px),
            _ => () => ConvKernel.WeightGrad(g, px, py, pw),
        };
        return new PreparedCall(call, x, w, y);
    }

    private static unsafe PreparedCall ImageGemms(ConvGeometry g)
    {
        int m = g.OutChannels, k = g.PatchSize, n = g.OutArea;
        var w = Tensor.Randn([m, k]);
        var cols = Tensor.Randn([k, n]);
        var y = Tensor.Zeros([g.Batch, m, n]);
        float* pw = w.Pointer<float>(), pc = cols.Pointer<float>(), py = y.Pointer<float>();
        return new PreparedCall(() =>
        {
            for (int i = 0; i < g.Batch; i++)
                GemmKernel.Multiply(false, false, m, n, k, pw, k, pc, n, py + (nint)i * m * n, n, 0f, GemmKernel.BestTier, null);
        }, w, cols, y);
    }
}
