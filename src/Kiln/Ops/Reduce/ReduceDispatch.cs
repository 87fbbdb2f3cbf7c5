using System.Numerics;
using System.Numerics.Tensors;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The one place the reductions switch on dtype: each op names its operator struct per element type and
/// these methods build the kernel's layout from the tensors and run it.
/// </summary>
internal static unsafe class ReduceDispatch
{
    /// <summary>One remembered layout, found by the identity of the (never changing) shape and stride arrays it was made from.</summary>
    private readonly record struct CachedLayout(int[] Shape, int[] InStrides, int[] OutStrides, ReduceAttributes Attributes, bool Reorder, ReduceLayout Layout);

    // A compiled graph reduces the same tensors at every replay: the layouts of the last few reductions on
    // this thread are kept, so a replay makes none (and allocates nothing).
    [ThreadStatic] private static CachedLayout[]? _layouts;
    [ThreadStatic] private static int _nextLayout;

    /// <summary>
    /// The kernel layout for reducing <paramref name="x"/> into <paramref name="y"/> (which has the
    /// reduction's output shape). <paramref name="reorder"/>: see <see cref="ReduceLayout.Create"/>.
    /// </summary>
    internal static ReduceLayout Layout(Tensor x, ReduceAttributes a, Tensor y, bool reorder)
    {
        var cache = _layouts ??= new CachedLayout[16];
        var (shape, inStrides, outStrides) = (x.ShapeArray, x.StridesArray, y.StridesArray);
        foreach (var c in cache)
            if (c.Layout is not null && ReferenceEquals(c.Shape, shape) && ReferenceEquals(c.InStrides, inStrides)
                && ReferenceEquals(c.OutStrides, outStrides) && ReferenceEquals(c.Attributes, a) && c.Reorder == reorder)
                return c.Layout;
        var layout = CreateLayout(x, a, y, reorder);
        cache[_nextLayout] = new CachedLayout(shape, inStrides, outStrides, a, reorder, layout);
        _nextLayout = (_nextLayout + 1) % cache.Length;
        return layout;
    }

    private static ReduceLayout CreateLayout(Tensor x, ReduceAttributes a, Tensor y, bool reorder)
    {
        int rank = x.Rank;
        var reduced = new bool[rank];
        var outStrides = new int[rank];
        int od = 0;
        for (int i = 0; i < rank; i++)
        {
            reduced[i] = a.Reduces(i, rank);
            if (reduced[i])
            {
                if (a.KeepDim) od++;
                continue;
            }
            outStrides[i] = y.StridesArray[od++];
        }
        return ReduceLayout.Create(x.ShapeArray, x.StridesArray, outStrides, reduced, reorder);
    }

    /// <summary>y = reduce(x) for float and integer tensors (x and y of one dtype).</summary>
    internal static void Reduce<TF32, TF64, TI32, TI64>(Tensor x, ReduceAttributes a, Tensor y)
        where TF32 : IReduceOperator<float>
        where TF64 : IReduceOperator<double>
        where TI32 : IReduceOperator<int>
        where TI64 : IReduceOperator<long>
    {
        var layout = Layout(x, a, y, reorder: true);
        switch (x.DType)
        {
            case DType.Int32: ReduceKernel.Reduce<int, TI32>(layout, (int*)x.DataPointer, null, (int*)y.DataPointer); break;
            case DType.Int64: ReduceKernel.Reduce<long, TI64>(layout, (long*)x.DataPointer, null, (long*)y.DataPointer); break;
            default: Reduce<TF32, TF64>(x, a, y, null, layout); break;
        }
    }

    /// <summary>
    /// y = reduce(x) for the reductions that widen integers (Sum, Prod): float tensors keep their dtype,
    /// integer and bool tensors are read as int64 and give int64, as in PyTorch.
    /// </summary>
    internal static void ReduceWidening<TF32, TF64, TI64>(Tensor x, ReduceAttributes a, Tensor y)
        where TF32 : IReduceOperator<float>
        where TF64 : IReduceOperator<double>
        where TI64 : IReduceOperator<long>
    {
        if (x.DType.IsFloatingPoint())
        {
            Reduce<TF32, TF64>(x, a, y);
            return;
        }
        if (y.DType != DType.Int64) throw new InvalidOperationException($"an integer {x.DType.Name()} reduction must give int64");
        var wide = x;
        if (x.DType != DType.Int64)
        {
            wide = Tensor.Empty(x.ShapeArray, DType.Int64);
            CastOp.Instance.Forward([x], new CastOp.Attributes(DType.Int64), wide);
        }
        try
        {
            ReduceKernel.Reduce<long, TI64>(Layout(wide, a, y, reorder: true), (long*)wide.DataPointer, null, (long*)y.DataPointer);
        }
        finally
        {
            if (!ReferenceEquals(wide, x)) wide.Dispose();
        }
    }

    /// <summary>
    /// y = reduce(map(x, shift)) for float tensors; <paramref name="shift"/> (null for none) holds one
    /// value per output and must be laid out like <paramref name="y"/>.
    /// </summary>
    internal static void Reduce<TF32, TF64>(Tensor x, ReduceAttributes a, Tensor y, Tensor? shift = null)
        where TF32 : IReduceOperator<float>
        where TF64 : IReduceOperator<double>
        => Reduce<TF32, TF64>(x, a, y, shift, Layout(x, a, y, reorder: true));

    private static void Reduce<TF32, TF64>(Tensor x, ReduceAttributes a, Tensor y, Tensor? shift, ReduceLayout layout)
        where TF32 : IReduceOperator<float>
        where TF64 : IReduceOperator<double>
    {
        if (shift is not null && !shift.StridesArray.AsSpan().SequenceEqual(y.StridesArray))
            throw new InvalidOperationException("a reduction's shift must be laid out like its output");
        switch (x.DType)
        {
            case DType.Float32:
                ReduceKernel.Reduce<float, TF32>(layout, (float*)x.DataPointer, shift is null ? null : (float*)shift.DataPointer, (float*)y.DataPointer);
                break;
            case DType.Float64:
                ReduceKernel.Reduce<double, TF64>(layout, (double*)x.DataPointer, shift is null ? null : (double*)shift.DataPointer, (double*)y.DataPointer);
                break;
            default: throw new InvalidOperationException($"no reduction kernel for {x.DType.Name()}");
        }
    }

    /// <summary>t /= divisor, for a contiguous float tensor (the final step of Mean-like reductions).</summary>
    internal static void Divide(Tensor t, double divisor)
    {
        switch (t.DType)
        {
            case DType.Float32: TensorPrimitives.Divide(t.Span<float>(), (float)divisor, t.Span<float>()); break;
            case DType.Float64: TensorPrimitives.Divide(t.Span<double>(), divisor, t.Span<double>()); break;
            default: throw new InvalidOperationException($"no float kernel for {t.DType.Name()}");
        }
    }

    /// <summary>t = sqrt(t), for a contiguous float tensor.</summary>
    internal static void Sqrt(Tensor t)
    {
        switch (t.DType)
        {
            case DType.Float32: TensorPrimitives.Sqrt(t.Span<float>(), t.Span<float>()); break;
            case DType.Float64: TensorPrimitives.Sqrt(t.Span<double>(), t.Span<double>()); break;
            default: throw new InvalidOperationException($"no float kernel for {t.DType.Name()}");
        }
    }

    /// <summary>
    /// The shift of a log-sum-exp: the maximum where it is finite, else 0 (all -inf gives -inf, any +inf
    /// gives +inf, NaN gives NaN, without inf - inf), for a contiguous float tensor.
    /// </summary>
    internal static void FiniteOrZero(Tensor t)
    {
        switch (t.DType)
        {
            case DType.Float32: FiniteOrZero(t.Span<float>()); break;
            case DType.Float64: FiniteOrZero(t.Span<double>()); break;
            default: throw new InvalidOperationException($"no float kernel for {t.DType.Name()}");
        }
    }

    private static void FiniteOrZero<T>(Span<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
            if (!T.IsFinite(values[i])) values[i] = T.Zero;
    }

    /// <summary>y = log(y) + shift, for contiguous float tensors of one shape.</summary>
    internal static void LogPlus(Tensor y, Tensor shift)
    {
        switch (y.DType)
        {
            case DType.Float32:
                TensorPrimitives.Log(y.Span<float>(), y.Span<float>());
                TensorPrimitives.Add(y.Span<float>(), shift.Span<float>(), y.Span<float>());
                break;
            case DType.Float64:
                TensorPrimitives.Log(y.Span<double>(), y.Span<double>());
                TensorPrimitives.Add(y.Span<double>(), shift.Span<double>(), y.Span<double>());
                break;
            default: throw new InvalidOperationException($"no float kernel for {y.DType.Name()}");
        }
    }

    /// <summary>y (int64) = the position of the winning value along the reduced dimensions.</summary>
    internal static void ArgReduce<TF32, TF64, TI32, TI64>(Tensor x, ReduceAttributes a, Tensor y)
        where TF32 : IArgReduceOperator<float>
        where TF64 : IArgReduceOperator<double>
        where TI32 : IArgReduceOperator<int>
        where TI64 : IArgReduceOperator<long>
    {
        var layout = Layout(x, a, y, reorder: false);
        long* result = (long*)y.DataPointer;
        switch (x.DType)
        {
            case DType.Float32: ReduceKernel.ArgReduce<float, TF32>(layout, (float*)x.DataPointer, result); break;
            case DType.Float64: ReduceKernel.ArgReduce<double, TF64>(layout, (double*)x.DataPointer, result); break;
            case DType.Int32: ReduceKernel.ArgReduce<int, TI32>(layout, (int*)x.DataPointer, result); break;
            case DType.Int64: ReduceKernel.ArgReduce<long, TI64>(layout, (long*)x.DataPointer, result); break;
            default: throw new InvalidOperationException($"no arg-reduction kernel for {x.DType.Name()}");
        }
    }
}
