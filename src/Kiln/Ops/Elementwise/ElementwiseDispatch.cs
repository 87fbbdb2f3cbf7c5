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

    internal static StridedLayout BinaryLayout(Tensor a, Tensor b, Tensor y)
        => StridedLayout.Create(y.ShapeArray, y.StridesArray, (a.ShapeArray, a.StridesArray), (b.ShapeArray, b.StridesArray));
}
