using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Logical or of two bool tensors with broadcasting.</summary>
    internal sealed class LogicalOrOp : LogicalBinaryOp
    {
        internal static readonly LogicalOrOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "LogicalOr";

        internal override double Scalar(double a, double b) => a != 0 || b != 0 ? 1 : 0;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Bool<Operator>(inputs[0], inputs[1], output);

        // Bools are stored as 0/1 bytes, so the bitwise operation on the bytes is the logical one.
        internal readonly struct Operator : IBinarySpanOperator<byte, byte>
        {
            public static void Invoke(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> d) => TensorPrimitives.BitwiseOr(x, y, d);
            public static void Invoke(ReadOnlySpan<byte> x, byte y, Span<byte> d) => TensorPrimitives.BitwiseOr(x, y, d);
            public static void Invoke(byte x, ReadOnlySpan<byte> y, Span<byte> d) => TensorPrimitives.BitwiseOr(y, x, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Elementwise logical or with broadcasting: a bool tensor, true where either is true. Inputs of other dtypes
        /// count as true where they are non-zero.
        /// </summary>
        public Tensor LogicalOr(Tensor other) => Dispatcher.Call(LogicalOrOp.Instance, NoAttributes.Instance, To(DType.Bool), other.To(DType.Bool));
    }
}
