using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Maximum and Minimum: the elementwise extremum of two tensors with broadcasting; NaN wins, as in
/// PyTorch. Each op's file gives its name, registration and entry point.
/// </summary>
internal abstract class ExtremumElementwiseOp<TWhich> : BinaryElementwiseOp where TWhich : struct, IExtremum
{
    internal override double Scalar(double a, double b) => TWhich.IsLargest ? Math.Max(a, b) : Math.Min(a, b);

    public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
        => ElementwiseDispatch.Binary<Operator<float>, Operator<double>, Operator<int>, Operator<long>>(inputs[0], inputs[1], output);

    // The gradient goes to the winning input; ties split it half and half (PyTorch's rule).
    public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
    {
        var (x, y) = (c.Input(0), c.Input(1));
        var dtype = c.Grad.DType;
        var tie = x.Eq(y).To(dtype) * 0.5;
        return
        [
            c.NeedsGrad(0) ? (c.Grad * (Wins(x, y, first: true).To(dtype) + tie)).SumTo(x.Shape) : null,
            c.NeedsGrad(1) ? (c.Grad * (Wins(x, y, first: false).To(dtype) + tie)).SumTo(y.Shape) : null,
        ];
    }

    /// <summary>Where the first (or second) input strictly wins.</summary>
    private static Tensor Wins(Tensor x, Tensor y, bool first) => TWhich.IsLargest == first ? x.Gt(y) : x.Lt(y);

    internal readonly struct Operator<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
    {
        // The branches on TWhich fold away, but only after inlining decisions that count them: force it.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d)
        {
            if (TWhich.IsLargest) TensorPrimitives.Max(x, y, d);
            else TensorPrimitives.Min(x, y, d);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d)
        {
            if (TWhich.IsLargest) TensorPrimitives.Max(x, y, d);
            else TensorPrimitives.Min(x, y, d);
        }

        public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => Invoke(y, x, d);
    }
}
