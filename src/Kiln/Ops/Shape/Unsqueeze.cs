using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>A view with a new dimension of size 1 inserted at Dim; no data moves.</summary>
    internal sealed class UnsqueezeOp : ViewOp<UnsqueezeOp.Attributes>
    {
        /// <summary>Position of the new dimension in the result: 0 &lt;= Dim &lt;= input rank.</summary>
        internal sealed record Attributes(int Dim) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Int32(Dim);

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("dim"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly UnsqueezeOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Unsqueeze";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var x = inputs[0].Shape;
            if (a.Dim < 0 || a.Dim > x.Rank)
                throw Error($"dimension {a.Dim} is out of range 0..{x.Rank} for the new dimension", inputs);
            return new TensorSpec(Kiln.Shape.Wrap(Insert(x.ToArray(), a.Dim, 1)), inputs[0].DType);
        }

        private static int[] Insert(int[] values, int at, int value)
        {
            var result = new int[values.Length + 1];
            for (int i = 0, j = 0; i < result.Length; i++) result[i] = i == at ? value : values[j++];
            return result;
        }

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            int stride = a.Dim < x.Rank ? x.ShapeArray[a.Dim] * x.StridesArray[a.Dim] : 1;
            return x.AsStrided(Insert(x.ShapeArray, a.Dim, 1), Insert(x.StridesArray, a.Dim, stride), x.OffsetElements);
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
            => [Dispatcher.Call(SqueezeOp.Instance, new SqueezeOp.Attributes(new IntList(a.Dim)), c.Grad)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
            => Tensor.From<double>(inputs[0].ToArray<double>(), Insert(inputs[0].ShapeArray, a.Dim, 1));

        public override IEnumerable<OpSample> Samples() =>
        [
            new("leading", () => [OpSample.Uniform(111, -1, 1, 3, 4)], new Attributes(0)),
            new("middle", () => [OpSample.Uniform(112, -1, 1, 3, 4)], new Attributes(1)),
            new("trailing", () => [OpSample.Uniform(113, -1, 1, 3, 4)], new Attributes(2)),
            new("scalar", () => [OpSample.Uniform(114, -1, 1)], new Attributes(0)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
            [new("dim past rank", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(3))];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>A view with a new dimension of size 1 at <paramref name="dim"/> (in -rank-1..rank; negative counts from the end of the result).</summary>
        public Tensor Unsqueeze(int dim)
        {
            if (dim < -Rank - 1 || dim > Rank)
                throw new KilnShapeException($"Unsqueeze: dimension {dim} is out of range for shape {Shape} (expected {-Rank - 1}..{Rank})");
            if (dim < 0) dim += Rank + 1;
            return Dispatcher.Call(UnsqueezeOp.Instance, new UnsqueezeOp.Attributes(dim), this);
        }
    }
}
