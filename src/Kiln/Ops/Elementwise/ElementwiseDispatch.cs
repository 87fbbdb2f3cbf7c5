using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The one place elementwise ops switch on dtype: each op names its operator struct per element type
/// and these methods pick the instantiation and run the broadcasting loop. Operands laid out densely
/// in the output's order (same element count and contiguous, or a single broadcast element) skip the
/// layout and go to the operator in one span call, which is most calls and all the tiny ones.
/// </summary>
internal static unsafe class ElementwiseDispatch
{
    internal static void Unary<TF32, TF64>(Tensor x, Tensor y)
        where TF32 : IUnarySpanOperator<float, float>
        where TF64 : IUnarySpanOperator<double, double>
    {
        switch (x.DType)
        {
            case DType.Float32: RunUnary<float, float, TF32>(x, y); break;
            case DType.Float64: RunUnary<double, double, TF64>(x, y); break;
            default: throw new InvalidOperationException($"no float kernel for {x.DType.Name()}");
        }
    }

    internal static void Unary<TF32, TF64, TI32, TI64>(Tensor x, Tensor y)
        where TF32 : IUnarySpanOperator<float, float>
        where TF64 : IUnarySpanOperator<double, double>
        where TI32 : IUnarySpanOperator<int, int>
        where TI64 : IUnarySpanOperator<long, long>
    {
        switch (x.DType)
        {
            case DType.Int32: RunUnary<int, int, TI32>(x, y); break;
            case DType.Int64: RunUnary<long, long, TI64>(x, y); break;
            default: Unary<TF32, TF64>(x, y); break;
        }
    }

    internal static void Binary<TF32, TF64>(Tensor a, Tensor b, Tensor y)
        where TF32 : IBinarySpanOperator<float, float>
        where TF64 : IBinarySpanOperator<double, double>
    {
        switch (a.DType)
        {
            case DType.Float32: RunBinary<float, float, TF32>(a, b, y); break;
            case DType.Float64: RunBinary<double, double, TF64>(a, b, y); break;
            default: throw new InvalidOperationException($"no float kernel for {a.DType.Name()}");
        }
    }

    internal static void Binary<TF32, TF64, TI32, TI64>(Tensor a, Tensor b, Tensor y)
        where TF32 : IBinarySpanOperator<float, float>
        where TF64 : IBinarySpanOperator<double, double>
        where TI32 : IBinarySpanOperator<int, int>
        where TI64 : IBinarySpanOperator<long, long>
    {
        switch (a.DType)
        {
            case DType.Int32: RunBinary<int, int, TI32>(a, b, y); break;
            case DType.Int64: RunBinary<long, long, TI64>(a, b, y); break;
            default: Binary<TF32, TF64>(a, b, y); break;
        }
    }

    /// <summary>A float-only op whose operator carries parameters (see <see cref="IUnaryVectorOperator{T}"/>).</summary>
    internal static void UnaryVector<TF32, TF64>(Tensor x, Tensor y, TF32 f32, TF64 f64)
        where TF32 : unmanaged, IUnaryVectorOperator<float>
        where TF64 : unmanaged, IUnaryVectorOperator<double>
    {
        switch (x.DType)
        {
            case DType.Float32: RunUnaryVector<float, TF32>(x, y, f32); break;
            case DType.Float64: RunUnaryVector<double, TF64>(x, y, f64); break;
            default: throw new InvalidOperationException($"no float kernel for {x.DType.Name()}");
        }
    }

    /// <summary>As <see cref="UnaryVector{TF32, TF64}"/>, also for int32 and int64.</summary>
    internal static void UnaryVector<TF32, TF64, TI32, TI64>(Tensor x, Tensor y, TF32 f32, TF64 f64, TI32 i32, TI64 i64)
        where TF32 : unmanaged, IUnaryVectorOperator<float>
        where TF64 : unmanaged, IUnaryVectorOperator<double>
        where TI32 : unmanaged, IUnaryVectorOperator<int>
        where TI64 : unmanaged, IUnaryVectorOperator<long>
    {
        switch (x.DType)
        {
            case DType.Int32: RunUnaryVector<int, TI32>(x, y, i32); break;
            case DType.Int64: RunUnaryVector<long, TI64>(x, y, i64); break;
            default: UnaryVector(x, y, f32, f64); break;
        }
    }

    /// <summary>A comparison of two same-dtype tensors (any dtype) into a bool tensor.</summary>
    internal static void Compare<TPredicate>(Tensor a, Tensor b, Tensor y) where TPredicate : IComparisonPredicate
    {
        switch (a.DType)
        {
            case DType.Float32: RunBinary<float, byte, ComparisonOperator<float, TPredicate>>(a, b, y); break;
            case DType.Float64: RunBinary<double, byte, ComparisonOperator<double, TPredicate>>(a, b, y); break;
            case DType.Int32: RunBinary<int, byte, ComparisonOperator<int, TPredicate>>(a, b, y); break;
            case DType.Int64: RunBinary<long, byte, ComparisonOperator<long, TPredicate>>(a, b, y); break;
            case DType.Int8: RunBinary<sbyte, byte, ComparisonOperator<sbyte, TPredicate>>(a, b, y); break;
            case DType.UInt8:
            case DType.Bool: RunBinary<byte, byte, ComparisonOperator<byte, TPredicate>>(a, b, y); break;
            default: throw new InvalidOperationException($"no comparison kernel for {a.DType.Name()}");
        }
    }

    /// <summary>A byte-wise op on bool tensors (bools are stored as 0/1 bytes).</summary>
    internal static void Bool<TOp>(Tensor a, Tensor b, Tensor y) where TOp : IBinarySpanOperator<byte, byte>
        => RunBinary<byte, byte, TOp>(a, b, y);

    /// <summary>A byte-wise op on one bool tensor.</summary>
    internal static void Bool<TOp>(Tensor x, Tensor y) where TOp : IUnarySpanOperator<byte, byte>
        => RunUnary<byte, byte, TOp>(x, y);

    /// <summary>y = condition ? a : b with broadcasting; any dtype, moved as raw bits of its size.</summary>
    internal static void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        switch (a.DType.ElementSize())
        {
            case 1: RunWhere<byte>(condition, a, b, y); break;
            case 4: RunWhere<uint>(condition, a, b, y); break;
            case 8: RunWhere<ulong>(condition, a, b, y); break;
            default: throw new InvalidOperationException($"no Where kernel for {a.DType.Name()}");
        }
    }

    internal static StridedLayout BinaryLayout(Tensor a, Tensor b, Tensor y)
        => StridedLayout.Create(y.ShapeArray, y.StridesArray, (a.ShapeArray, a.StridesArray), (b.ShapeArray, b.StridesArray));

    private static StridedLayout UnaryLayout(Tensor x, Tensor y)
        => StridedLayout.Create(y.ShapeArray, y.StridesArray, (x.ShapeArray, x.StridesArray));

    /// <summary>
    /// True when <paramref name="x"/>'s elements line up one to one with the output's <paramref name="n"/>
    /// in memory order: it broadcasts to the output, so with as many elements it differs from the output's
    /// shape only by dimensions of size 1, and contiguous, both are dense in the same order.
    /// </summary>
    private static bool Dense(Tensor x, int n) => x.NumElements == n && x.IsContiguous;

    private static void RunUnary<TIn, TOut, TOp>(Tensor x, Tensor y)
        where TIn : unmanaged
        where TOut : unmanaged
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        int n = y.NumElements;
        if (n == 0) return;
        if (y.IsContiguous && Dense(x, n))
        {
            ElementwiseLoop.DenseUnary<TIn, TOut, TOp>((TIn*)x.DataPointer, (TOut*)y.DataPointer, n);
            return;
        }
        ElementwiseLoop.Unary<TIn, TOut, TOp>(UnaryLayout(x, y), (TIn*)x.DataPointer, (TOut*)y.DataPointer);
    }

    private static void RunUnaryVector<T, TOp>(Tensor x, Tensor y, TOp op)
        where T : unmanaged
        where TOp : unmanaged, IUnaryVectorOperator<T>
    {
        int n = y.NumElements;
        if (n == 0) return;
        if (y.IsContiguous && Dense(x, n))
        {
            ElementwiseLoop.DenseUnary((T*)x.DataPointer, (T*)y.DataPointer, n, op);
            return;
        }
        ElementwiseLoop.Unary(UnaryLayout(x, y), (T*)x.DataPointer, (T*)y.DataPointer, op);
    }

    private static void RunBinary<T, TOut, TOp>(Tensor a, Tensor b, Tensor y)
        where T : unmanaged
        where TOut : unmanaged
        where TOp : IBinarySpanOperator<T, TOut>
    {
        int n = y.NumElements;
        if (n == 0) return;
        if (y.IsContiguous)
        {
            bool denseA = Dense(a, n), denseB = Dense(b, n);
            bool scalarA = a.NumElements == 1, scalarB = b.NumElements == 1;
            if ((denseA || scalarA) && (denseB || scalarB) && !(scalarA && scalarB && n > 1))
            {
                ElementwiseLoop.DenseBinary<T, TOut, TOp>((T*)a.DataPointer, (T*)b.DataPointer, (TOut*)y.DataPointer, n,
                    scalarA: !denseA, scalarB: !denseB);
                return;
            }
        }
        ElementwiseLoop.Binary<T, TOut, TOp>(BinaryLayout(a, b, y), (T*)a.DataPointer, (T*)b.DataPointer, (TOut*)y.DataPointer);
    }

    private static void RunWhere<T>(Tensor condition, Tensor a, Tensor b, Tensor y) where T : unmanaged
    {
        int n = y.NumElements;
        if (n == 0) return;
        if (y.IsContiguous && Dense(condition, n) && Dense(a, n) && Dense(b, n))
        {
            ElementwiseLoop.DenseTernary<byte, T, T, WhereOperator<T>>((byte*)condition.DataPointer, (T*)a.DataPointer, (T*)b.DataPointer, (T*)y.DataPointer, n);
            return;
        }
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray,
            (condition.ShapeArray, condition.StridesArray), (a.ShapeArray, a.StridesArray), (b.ShapeArray, b.StridesArray));
        ElementwiseLoop.Ternary<byte, T, T, WhereOperator<T>>(layout, (byte*)condition.DataPointer, (T*)a.DataPointer, (T*)b.DataPointer, (T*)y.DataPointer);
    }
}
