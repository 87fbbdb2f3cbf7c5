using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>exp(x - max) / sum(exp(x - max)) along one dimension, in one fused kernel.</summary>
    internal sealed class SoftmaxOp : OpDef<SoftmaxOp.Attributes>
    {
        /// <summary>The dimension the rows run along (normalized when in range; an out-of-range value is kept so Infer can name it).</summary>
        internal sealed record Attributes(int Dim) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Int32(Dim);

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("dim"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;

            internal static Attributes Create(int dim, int rank) => new(dim < 0 && dim + Math.Max(rank, 1) >= 0 ? dim + Math.Max(rank, 1) : dim);

            internal void Check(OpDef op, ReadOnlySpan<TensorSpec> inputs)
            {
                var x = inputs[0];
                if (!x.DType.IsFloatingPoint()) throw op.Error($"expects a floating-point tensor, got {x.DType.Name()}", inputs);
                if (Dim < 0 || Dim >= Math.Max(x.Shape.Rank, 1))
                    throw op.Error($"dimension {Dim} is out of range for rank {x.Shape.Rank}", inputs);
            }

            /// <summary>Runs the kernel: softmax, or log-softmax with <paramref name="log"/>.</summary>
            internal unsafe void Run(Tensor x, Tensor y, bool log)
            {
                switch (x.DType)
                {
                    case DType.Float32:
                        SoftmaxKernel.Forward(x.ShapeArray, x.StridesArray, y.StridesArray, Dim, (float*)x.DataPointer, (float*)y.DataPointer, log);
                        break;
                    case DType.Float64:
                        SoftmaxKernel.Forward(x.ShapeArray, x.StridesArray, y.StridesArray, Dim, (double*)x.DataPointer, (double*)y.DataPointer, log);
                        break;
                    default: throw new InvalidOperationException($"no softmax kernel for {x.DType.Name()}");
                }
            }

            /// <summary>The naive float64 reference: each row along the dimension, max-shifted.</summary>
            internal Tensor Reference(Tensor x, bool log)
            {
                var values = x.ToArray<double>();
                var result = new double[values.Length];
                int rank = x.Rank;
                int n = rank == 0 ? 1 : x.ShapeArray[Dim];
                int inner = 1;
                for (int d = Dim + 1; d < rank; d++) inner *= x.ShapeArray[d];
                int outer = n == 0 ? 0 : values.Length / (n * inner);
                for (int o = 0; o < outer; o++)
                {
                    for (int i = 0; i < inner; i++)
                    {
                        int At(int k) => (o * n + k) * inner + i;
                        double max = double.NegativeInfinity;
                        for (int k = 0; k < n; k++) max = Math.Max(max, values[At(k)]);
                        double sum = 0;
                        for (int k = 0; k < n; k++) sum += Math.Exp(values[At(k)] - max);
                        for (int k = 0; k < n; k++)
                            result[At(k)] = log ? values[At(k)] - max - Math.Log(sum) : Math.Exp(values[At(k)] - max) / sum;
                    }
                }
                return Tensor.From<double>(result, x.ShapeArray);
            }

            internal static IEnumerable<OpSample> Samples() =>
            [
                new("last dim", () => [OpSample.Uniform(111, -3, 3, 4, 6)], new Attributes(1)),
                new("dim 0", () => [OpSample.Uniform(112, -3, 3, 5, 3)], new Attributes(0)),
                new("middle dim of 3-d", () => [OpSample.Uniform(113, -3, 3, 2, 4, 3)], new Attributes(1)),
                new("vector", () => [OpSample.Uniform(114, -3, 3, 7)], new Attributes(0)),
                new("scalar", () => [OpSample.Uniform(115, -3, 3)], new Attributes(0)),
                new("empty", () => [OpSample.Uniform(116, -3, 3, 0, 4)], new Attributes(1)),
                new("large values", () => [OpSample.Uniform(117, 990, 1010, 3, 5)], new Attributes(1)),
                new("long rows", () => [OpSample.Uniform(118, -3, 3, 3, 259)], new Attributes(1)) { CheckGradient = false },
                new("long columns", () => [OpSample.Uniform(119, -3, 3, 2, 37, 300)], new Attributes(1)) { CheckGradient = false },
            ];

            internal static IEnumerable<OpInvalidSample> InvalidSamples() =>
            [
                new("dimension out of range", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(2)),
                new("negative dimension out of range", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(-3)),
                new("int64 input", [new TensorSpec(new Shape(2, 3), DType.Int64)], new Attributes(1)),
            ];
        }

        internal static readonly SoftmaxOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Softmax";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            a.Check(this, inputs);
            return inputs[0];
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output) => a.Run(inputs[0], output, log: false);

        // dx = y * (g - sum(g * y)) along the dimension, in one fused op.
        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [SoftmaxBackwardOp.Apply(c.Grad, c.Output, a.Dim, log: false)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a) => a.Reference(inputs[0], log: false);

        public override IEnumerable<OpSample> Samples() => Attributes.Samples();

        public override IEnumerable<OpInvalidSample> InvalidSamples() => Attributes.InvalidSamples();
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Softmax along <paramref name="dim"/> (negative counts from the end): exp(x) / sum(exp(x)), stable for large values.</summary>
        public Tensor Softmax(int dim) => Dispatcher.Call(SoftmaxOp.Instance, SoftmaxOp.Attributes.Create(dim, Rank), this);
    }
}
