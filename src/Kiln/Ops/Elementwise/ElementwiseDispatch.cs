using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// The one place elementwise ops switch on dtype: each op names its operator struct per element type
/// and these methods pick the instantiation and run the broadcasting loop.
/// </summary>
internal static unsafe class ElementwiseDispatch
{
    internal static void Unary<TF32, TF64>(Tensor x, Tensor y)
        where TF32 : IUnarySpanOperator<float, float>
        where TF64 : IUnarySpanOperator<double, double>
    {
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray, (x.ShapeArray, x.StridesArray));
        switch (x.DType)
        {
            case DType.Float32: ElementwiseLoop.Unary<float, float, TF32>(layout, (float*)x.DataPointer, (float*)y.DataPointer); break;
            case DType.Float64: ElementwiseLoop.Unary<double, double, TF64>(layout, (double*)x.DataPointer, (double*)y.DataPointer); break;
            default: throw new InvalidOperationException($"no float kernel for {x.DType.Name()}");
        }
    }

    internal static void Unary<TF32, TF64, TI32, TI64>(Tensor x, Tensor y)
        where TF32 : IUnarySpanOperator<float, float>
        where TF64 : IUnarySpanOperator<double, double>
        where TI32 : IUnarySpanOperator<int, int>
        where TI64 : IUnarySpanOperator<long, long>
    {
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray, (x.ShapeArray, x.StridesArray));
        switch (x.DType)
        {
            case DType.Int32: ElementwiseLoop.Unary<int, int, TI32>(layout, (int*)x.DataPointer, (int*)y.DataPointer); break;
            case DType.Int64: ElementwiseLoop.Unary<long, long, TI64>(layout, (long*)x.DataPointer, (long*)y.DataPointer); break;
            default: Unary<TF32, TF64>(x, y); break;
        }
    }

    internal static void Binary<TF32, TF64>(Tensor a, Tensor b, Tensor y)
        where TF32 : IBinarySpanOperator<float, float>
        where TF64 : IBinarySpanOperator<double, double>
    {
        var layout = BinaryLayout(a, b, y);
        switch (a.DType)
        {
            case DType.Float32: ElementwiseLoop.Binary<float, float, TF32>(layout, (float*)a.DataPointer, (float*)b.DataPointer, (float*)y.DataPointer); break;
            case DType.Float64: ElementwiseLoop.Binary<double, double, TF64>(layout, (double*)a.DataPointer, (double*)b.DataPointer, (double*)y.DataPointer); break;
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
            case DType.Int32: ElementwiseLoop.Binary<int, int, TI32>(BinaryLayout(a, b, y), (int*)a.DataPointer, (int*)b.DataPointer, (int*)y.DataPointer); break;
            case DType.Int64: ElementwiseLoop.Binary<long, long, TI64>(BinaryLayout(a, b, y), (long*)a.DataPointer, (long*)b.DataPointer, (long*)y.DataPointer); break;
            default: Binary<TF32, TF64>(a, b, y); break;
        }
    }

    /// <summary>A float-only op whose operator carries parameters (see <see cref="IUnaryVectorOperator{T}"/>).</summary>
    internal static void UnaryVector<TF32, TF64>(Tensor x, Tensor y, TF32 f32, TF64 f64)
        where TF32 : struct, IUnaryVectorOperator<float>
        where TF64 : struct, IUnaryVectorOperator<double>
    {
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray, (x.ShapeArray, x.StridesArray));
        switch (x.DType)
        {
            case DType.Float32: ElementwiseLoop.Unary(layout, (float*)x.DataPointer, (float*)y.DataPointer, f32); break;
            case DType.Float64: ElementwiseLoop.Unary(layout, (double*)x.DataPointer, (double*)y.DataPointer, f64); break;
            default: throw new InvalidOperationException($"no float kernel for {x.DType.Name()}");
        }
    }

    /// <summary>As <see cref="UnaryVector{TF32, TF64}"/>, also for int32 and int64.</summary>
    internal static void UnaryVector<TF32, TF64, TI32, TI64>(Tensor x, Tensor y, TF32 f32, TF64 f64, TI32 i32, TI64 i64)
        where TF32 : struct, IUnaryVectorOperator<float>
        where TF64 : struct, IUnaryVectorOperator<double>
        where TI32 : struct, IUnaryVectorOperator<int>
        where TI64 : struct, IUnaryVectorOperator<long>
    {
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray, (x.ShapeArray, x.StridesArray));
        switch (x.DType)
        {
            case DType.Int32: ElementwiseLoop.Unary(layout, (int*)x.DataPointer, (int*)y.DataPointer, i32); break;
            case DType.Int64: ElementwiseLoop.Unary(layout, (long*)x.DataPointer, (long*)y.DataPointer, i64); break;
            default: UnaryVector(x, y, f32, f64); break;
        }
    }

    /// <summary>A comparison of two same-dtype tensors (any dtype) into a bool tensor.</summary>
    internal static void Compare<TPredicate>(Tensor a, Tensor b, Tensor y) where TPredicate : IComparisonPredicate
    {
        var layout = BinaryLayout(a, b, y);
        var d = (byte*)y.DataPointer;
        void* pa = a.DataPointer, pb = b.DataPointer;
        switch (a.DType)
        {
            case DType.Float32: ElementwiseLoop.Binary<float, byte, ComparisonOperator<float, TPredicate>>(layout, (float*)pa, (float*)pb, d); break;
            case DType.Float64: ElementwiseLoop.Binary<double, byte, ComparisonOperator<double, TPredicate>>(layout, (double*)pa, (double*)pb, d); break;
            case DType.Int32: ElementwiseLoop.Binary<int, byte, ComparisonOperator<int, TPredicate>>(layout, (int*)pa, (int*)pb, d); break;
            case DType.Int64: ElementwiseLoop.Binary<long, byte, ComparisonOperator<long, TPredicate>>(layout, (long*)pa, (long*)pb, d); break;
            case DType.Int8: ElementwiseLoop.Binary<sbyte, byte, ComparisonOperator<sbyte, TPredicate>>(layout, (sbyte*)pa, (sbyte*)pb, d); break;
            case DType.UInt8:
            case DType.Bool: ElementwiseLoop.Binary<byte, byte, ComparisonOperator<byte, TPredicate>>(layout, (byte*)pa, (byte*)pb, d); break;
            default: throw new InvalidOperationException($"no comparison kernel for {a.DType.Name()}");
        }
    }

    /// <summary>A byte-wise op on bool tensors (bools are stored as 0/1 bytes).</summary>
    internal static void Bool<TOp>(Tensor a, Tensor b, Tensor y) where TOp : IBinarySpanOperator<byte, byte>
        => ElementwiseLoop.Binary<byte, byte, TOp>(BinaryLayout(a, b, y), (byte*)a.DataPointer, (byte*)b.DataPointer, (byte*)y.DataPointer);

    /// <summary>A byte-wise op on one bool tensor.</summary>
    internal static void Bool<TOp>(Tensor x, Tensor y) where TOp : IUnarySpanOperator<byte, byte>
    {
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray, (x.ShapeArray, x.StridesArray));
        ElementwiseLoop.Unary<byte, byte, TOp>(layout, (byte*)x.DataPointer, (byte*)y.DataPointer);
    }

    /// <summary>y = condition ? a : b with broadcasting; any dtype, moved as raw bits of its size.</summary>
    internal static void Where(Tensor condition, Tensor a, Tensor b, Tensor y)
    {
        var layout = StridedLayout.Create(y.ShapeArray, y.StridesArray,
            (condition.ShapeArray, condition.StridesArray), (a.ShapeArray, a.StridesArray), (b.ShapeArray, b.StridesArray));
        var c = (byte*)condition.DataPointer;
        void* pa = a.DataPointer, pb = b.DataPointer, py = y.DataPointer;
        switch (a.DType.ElementSize())
        {
            case 1: ElementwiseLoop.Ternary<byte, byte, byte, WhereOperator<byte>>(layout, c, (byte*)pa, (byte*)pb, (byte*)py); break;
            case 4: ElementwiseLoop.Ternary<byte, uint, uint, WhereOperator<uint>>(layout, c, (uint*)pa, (uint*)pb, (uint*)py); break;
            case 8: ElementwiseLoop.Ternary<byte, ulong, ulong, WhereOperator<ulong>>(layout, c, (ulong*)pa, (ulong*)pb, (ulong*)py); break;
            default: throw new InvalidOperationException($"no Where kernel for {a.DType.Name()}");
        }
    }

    internal static StridedLayout BinaryLayout(Tensor a, Tensor b, Tensor y)
        => StridedLayout.Create(y.ShapeArray, y.StridesArray, (a.ShapeArray, a.StridesArray), (b.ShapeArray, b.StridesArray));
}
