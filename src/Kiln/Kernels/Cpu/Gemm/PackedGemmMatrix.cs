using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The B operand of a float32 GEMM packed once into the microkernel's panel order, for a weight that
/// many products reuse (a compiled model's constant Linear weight): <see cref="GemmKernel.MultiplyPacked"/>
/// then skips packing B, which costs as much as the whole product at batch 1. It holds op(B) as K×N,
/// KC block after KC block, for the microkernel family <see cref="Tier"/>; products with it give the
/// same bits as <see cref="GemmKernel.Multiply(bool, bool, int, int, int, float*, int, float*, int, float*, int, float, GemmTier, WorkerPool?)"/>
/// on the unpacked B with that tier.
/// </summary>
internal sealed unsafe class PackedGemmMatrix
{
    private readonly float[] _buffer;

    private PackedGemmMatrix(int k, int n, GemmTier tier, float[] buffer)
    {
        K = k;
        N = n;
        Tier = tier;
        _buffer = buffer;
    }

    /// <summary>Rows of op(B): the product's inner dimension.</summary>
    internal int K { get; }

    /// <summary>Columns of op(B): the product's output columns.</summary>
    internal int N { get; }

    /// <summary>The microkernel family the panels are laid out for.</summary>
    internal GemmTier Tier { get; }

    /// <summary>The first panel, 64-byte aligned (the buffer is pinned, so it never moves).</summary>
    internal float* Data => (float*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer)) + 63) & ~(nint)63);

    /// <summary>How a graph dump shows it: "784x256 Vector256 panels".</summary>
    public override string ToString() => $"{K}x{N} {Tier} panels";

    /// <summary>Packs op(B), k×n with row stride <paramref name="ldb"/> (stored n×k when <paramref name="transB"/>), for <paramref name="tier"/>.</summary>
    internal static PackedGemmMatrix Pack(bool transB, int k, int n, float* b, int ldb, GemmTier tier)
    {
        if (k < 0 || n < 0) throw new ArgumentOutOfRangeException(nameof(k), $"packed GEMM sizes must not be negative: k={k}, n={n}");
        long length = tier switch
        {
            GemmTier.Vector512 => GemmDriver<float, Float32Vector512Kernel>.PackedWholeLength(k, n),
            GemmTier.Vector256 => GemmDriver<float, Float32Vector256Kernel>.PackedWholeLength(k, n),
            GemmTier.Vector128 => GemmDriver<float, Float32Vector128Kernel>.PackedWholeLength(k, n),
            _ => GemmDriver<float, ScalarGemmKernel<float>>.PackedWholeLength(k, n),
        };
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)length + 64 / sizeof(float)), pinned: true);
        var packed = new PackedGemmMatrix(k, n, tier, buffer);
        var op = new GemmOperand<float>(b, ldb, transB);
        switch (tier)
        {
            case GemmTier.Vector512: GemmDriver<float, Float32Vector512Kernel>.PackWhole(op, k, n, packed.Data); break;
            case GemmTier.Vector256: GemmDriver<float, Float32Vector256Kernel>.PackWhole(op, k, n, packed.Data); break;
            case GemmTier.Vector128: GemmDriver<float, Float32Vector128Kernel>.PackWhole(op, k, n, packed.Data); break;
            default: GemmDriver<float, ScalarGemmKernel<float>>.PackWhole(op, k, n, packed.Data); break;
        }
        return packed;
    }
}
