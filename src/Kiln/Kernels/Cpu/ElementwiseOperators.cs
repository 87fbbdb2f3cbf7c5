namespace Kiln.Kernels.Cpu;

/// <summary>An elementwise map from one span to another, vectorized inside (usually a TensorPrimitives call).</summary>
internal interface IUnarySpanOperator<TIn, TOut>
    where TIn : unmanaged
    where TOut : unmanaged
{
    static abstract void Invoke(ReadOnlySpan<TIn> x, Span<TOut> destination);
}

/// <summary>An elementwise binary operation with span-span and span-scalar forms (a broadcast operand is a scalar per row).</summary>
internal interface IBinarySpanOperator<T, TOut>
    where T : unmanaged
    where TOut : unmanaged
{
    static abstract void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<TOut> destination);
    static abstract void Invoke(ReadOnlySpan<T> x, T y, Span<TOut> destination);
    static abstract void Invoke(T x, ReadOnlySpan<T> y, Span<TOut> destination);
}
