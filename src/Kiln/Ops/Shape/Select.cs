using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>A view of one index of one dimension, which the result drops (<c>x[i]</c>); no data moves.</summary>
    internal sealed class SelectOp : ViewOp<SelectOp.Attributes>
    {
        /// <summary>Normalized by the entry points: 0 &lt;= Dim &lt; rank, 0 &lt;= Index &lt; size.</summary>
        internal sealed record Attributes(int Dim, int Index) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                writer.Int32(Dim);
                writer.Int32(Index);
            }

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("dim"), reader.Int32("index"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly SelectOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Select";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var x = inputs[0].Shape;
            if ((uint)a.Dim >= (uint)x.Rank)
                throw Error($"dimension {a.Dim} is out of range for rank {x.Rank}", inputs);
            if ((uint)a.Index >= (uint)x[a.Dim])
                throw Error($"index {a.Index} is out of range for dimension {a.Dim} of size {x[a.Dim]}", inputs);
            return new TensorSpec(Kiln.Shape.Wrap(Drop(x.ToArray(), a.Dim)), inputs[0].DType);
        }

        private static int[] Drop(int[] values, int dim)
        {
            var result = new int[values.Length - 1];
            for (int i = 0, j = 0; i < values.Length; i++)
                if (i != dim) result[j++] = values[i];
            return result;
        }

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            return x.AsStrided(Drop(x.ShapeArray, a.Dim), Drop(x.StridesArray, a.Dim), x.OffsetElements + a.Index * x.StridesArray[a.Dim]);
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            int size = c.Input(0).ShapeArray[a.Dim];
            return [CatOp.PadWithZeros(c.Grad.Unsqueeze(a.Dim), a.Dim, a.Index, size - a.Index - 1)];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            return IndexMapReference.Build(x, Drop(x.ShapeArray, a.Dim), (o, src) =>
            {
                for (int i = 0, j = 0; i < src.Length; i++) src[i] = i == a.Dim ? a.Index : o[j++];
            });
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("row of a matrix", () => [OpSample.Uniform(91, -1, 1, 4, 5)], new Attributes(0, 2)),
            new("column of a matrix", () => [OpSample.Uniform(92, -1, 1, 4, 5)], new Attributes(1, 4)),
            new("middle dim of 3-d", () => [OpSample.Uniform(93, -1, 1, 2, 3, 4)], new Attributes(1, 0)),
            new("vector to scalar", () => [OpSample.Uniform(94, -1, 1, 6)], new Attributes(0, 5)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("index past the end", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(1, 3)),
            new("scalar input", [new TensorSpec(new Shape(), DType.Float32)], new Attributes(0, 0)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>A view of index <paramref name="index"/> of dimension <paramref name="dim"/>, which the result drops (negative values count from the end).</summary>
        public Tensor Select(int dim, int index)
        {
            int d = NormalizeDimFor("Select", dim);
            int size = ShapeArray[d];
            if (index < -size || index >= size)
                throw new KilnShapeException($"Select: index {index} is out of range for dimension {d} of size {size} (shape {Shape})");
            if (index < 0) index += size;
            return Dispatcher.Call(SelectOp.Instance, new SelectOp.Attributes(d, index), this);
        }
    }
}
