using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// A float32 convolution weight [O, C/groups, kH, kW] packed once into <see cref="ImplicitGemmConvKernel"/>'s
/// 16-channel panels, for a weight that never changes (a frozen graph's constant): packing 64 5×5 filters
/// of 32 channels costs a tenth of the whole forward pass at batch 1, and it runs on one thread. The
/// panels depend only on the weight's shape and the groups, not on the input's size.
/// </summary>
internal sealed unsafe class PackedConvWeights
{
    private readonly float[] _buffer;

    private PackedConvWeights(int outChannels, int groupChannels, int kernelHeight, int kernelWidth, int groups, float[] buffer, bool winograd = false)
    {
        IsWinograd = winograd;
        OutChannels = outChannels;
        GroupChannels = groupChannels;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        Groups = groups;
        _buffer = buffer;
    }

    internal int OutChannels { get; }
    internal int GroupChannels { get; }
    internal int KernelHeight { get; }
    internal int KernelWidth { get; }
    internal int Groups { get; }

    /// <summary>
    /// Whether these are <see cref="WinogradConvKernel"/>'s transformed weights (36 points of 16-channel
    /// panels) rather than the implicit-GEMM kernel's panels.
    /// </summary>
    internal bool IsWinograd { get; }

    /// <summary>The first panel, 64-byte aligned (the buffer is pinned, so it never moves).</summary>
    internal float* Data => (float*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer)) + 63) & ~(nint)63);

    /// <summary>Whether these panels hold the weight of a convolution of geometry <paramref name="g"/>.</summary>
    internal bool Fits(in ConvGeometry g)
        => g.OutChannels == OutChannels && g.GroupChannels == GroupChannels && g.KernelHeight == KernelHeight
           && g.KernelWidth == KernelWidth && g.Groups == Groups;

    /// <summary>How a graph dump shows it: "64x32x5x5 conv panels".</summary>
    public override string ToString() => $"{OutChannels}x{GroupChannels}x{KernelHeight}x{KernelWidth}{(Groups > 1 ? $" groups {Groups}" : "")} {(IsWinograd ? "Winograd-transformed" : "conv panels")}";

    /// <summary>
    /// Packs <paramref name="weight"/> (contiguous, the shape <paramref name="g"/> gives) for <see cref="ImplicitGemmConvKernel.ForwardPacked"/>;
    /// only where that kernel runs (<see cref="ImplicitGemmConvKernel.IsAccelerated"/>), since packing uses the same AVX2 transposes.
    /// </summary>
    internal static PackedConvWeights Pack(in ConvGeometry g, float* weight)
    {
        if (!ImplicitGemmConvKernel.IsAccelerated)
            throw new PlatformNotSupportedException("convolution weights are packed only for the AVX2 implicit-GEMM kernel, which this processor cannot run");
        long length = ImplicitGemmConvKernel.PackedWeightLength(g);
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)length + 64 / sizeof(float)), pinned: true);
        var packed = new PackedConvWeights(g.OutChannels, g.GroupChannels, g.KernelHeight, g.KernelWidth, g.Groups, buffer);
        ImplicitGemmConvKernel.PackWeights(g, weight, packed.Data);
        return packed;
    }

    /// <summary>
    /// Transforms <paramref name="weight"/> (5×5, one group) for <see cref="WinogradConvKernel.ForwardTransformed"/>:
    /// the weight transform is a third of that convolution's time at batch 1, and it runs before any tile can.
    /// </summary>
    internal static PackedConvWeights TransformForWinograd(in ConvGeometry g, float* weight)
    {
        if (!ImplicitGemmConvKernel.IsAccelerated || g.Groups != 1 || g.KernelHeight != 5 || g.KernelWidth != 5)
            throw new PlatformNotSupportedException("Winograd weights are transformed only for 5x5 single-group convolutions on AVX2");
        long length = WinogradConvKernel.TransformedWeightLength(g);
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)length + 64 / sizeof(float)), pinned: true);
        var packed = new PackedConvWeights(g.OutChannels, g.GroupChannels, g.KernelHeight, g.KernelWidth, g.Groups, buffer, winograd: true);
        WinogradConvKernel.TransformWeights(g, weight, packed.Data);
        return packed;
    }
}
