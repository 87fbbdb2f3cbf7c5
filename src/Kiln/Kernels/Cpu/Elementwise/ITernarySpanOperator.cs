namespace Kiln.Kernels.Cpu;

/// <summary>An elementwise map of three equal-length spans (broadcast operands arrive already spread out).</summary>
internal interface ITernarySpanOperator<TA, TB, TOut>
    where TA : unmanaged
    where TB : unmanaged
    where TOut : unmanaged
{
    static abstract void Invoke(ReadOnlySpan<TA> a, ReadOnlySpan<TB> b, ReadOnlySpan<TB> c, Span<TOut> destination);
}
