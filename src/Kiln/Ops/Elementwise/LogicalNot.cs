using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Logical not of a bool tensor.</summary>
    internal sealed class LogicalNotOp : OpDef<NoAttributes>, IPerElementOp
    {
        internal static readonly LogicalNotOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "LogicalNot";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Elementwise;
        public override bool IsDifferentiable => false;
        public override bool BackwardReadsInputs => false;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
        {
            if (inputs[0].DType != DType.Bool) throw Error($"expects a bool tensor, got {inputs[0].DType.Name()}", inputs);
            return inputs[0];
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Bool<Operator>(inputs[0], output);

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
        {
            var x = inputs[0].To(DType.Float64).ToArray<double>();
            var y = new double[x.Length];
            for (int i = 0; i < x.Length; i++) y[i] = x[i] != 0 ? 0 : 1;
            return Tensor.From<double>(y, inputs[0].ShapeArray);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("matrix", () => [ElementwiseSamples.Mask(61, 7, 13)], NoAttributes.Instance),
            new("scalar", () => [ElementwiseSamples.Mask(62)], NoAttributes.Instance),
            new("long row", () => [ElementwiseSamples.Mask(63, 2, 259)], NoAttributes.Instance),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
            [new("float input", [new TensorSpec(new Shape(2, 3), DType.Float32)], NoAttributes.Instance)];

        // Bools are 0/1 bytes: flipping the low bit is the logical not.
        internal readonly struct Operator : IUnarySpanOperator<byte, byte>
        {
            public static void Invoke(ReadOnlySpan<byte> x, Span<byte> d) => TensorPrimitives.Xor(x, (byte)1, d);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Elementwise logical not: a bool tensor, true where this tensor is false (or zero, for other dtypes).</summary>
        public Tensor LogicalNot() => Dispatcher.Call(LogicalNotOp.Instance, NoAttributes.Instance, To(DType.Bool));
    }
}
