using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kiln.Kernels.Cpu;

/// <summary>
/// The threshold below which optimizer state is written as 0. Subnormal arithmetic is very slow on
/// x86 without the FTZ/DAZ bits, which .NET cannot set, and an optimizer's decaying state (Adam's
/// exp_avg_sq under always-zero gradients) would otherwise sit in the subnormal range for thousands of
/// steps; flushing it by hand gives what PyTorch's set_flush_denormal(True) gives.
/// </summary>
internal static class SubnormalFlush
{
    /// <summary>The smallest positive normal value of float32.</summary>
    internal const float SmallestNormalSingle = 1.17549435E-38f;

    /// <summary>The smallest positive normal value of float64.</summary>
    internal const double SmallestNormalDouble = 2.2250738585072014E-308;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T SmallestNormal<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float)) return T.CreateTruncating(SmallestNormalSingle);
        if (typeof(T) == typeof(double)) return T.CreateTruncating(SmallestNormalDouble);
        throw new NotSupportedException($"{typeof(T).Name} is not a floating-point element type of Kiln");
    }
}
