using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>A view without some size-1 dimensions; no data moves.</summary>
    internal sealed class SqueezeOp : ViewOp<SqueezeOp.Attributes>
    {
        /// <summary>The dimensions to drop: ascending, non-negative, each of size 1.</summary>
        internal sealed record Attributes(IntList Dims) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Ints(Dims);

            internal static Attributes Read(AttributeReader reader) => new(reader.Ints("dims"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly SqueezeOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Squeeze";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var x = inputs[0].Shape;
            for (int i = 0; i < a.Dims.Count; i++)
            {
                int d = a.Dims[i];
                if ((uint)d >= (uint)x.Rank || (i > 0 && d <= a.Dims[i - 1]))
                    throw Error($"dims {a.Dims} must be ascending dimensions of a rank-{x.Rank} tensor", inputs);
                if (x[d] != 1) throw Error($"dimension {d} has size {x[d]}, not 1", inputs);
            }
            return new TensorSpec(Kiln.Shape.Wrap(Keep(x.ToArray(), a.Dims)), inputs[0].DType);
        }

        private static int[] Keep(int[] values, IntList drop)
        {
            var result = new int[values.Length - drop.Count];
            for (int i = 0, j = 0, k = 0; i < values.Length; i++)
            {
                if (k < drop.Count && drop[k] == i) { k++; continue; }
                result[j++] = values[i];
            }
            return result;
        }

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            return x.AsStrided(Keep(x.ShapeArray, a.Dims), Keep(x.StridesArray, a.Dims), x.OffsetElements);
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var g = c.Grad;
            for (int i = 0; i < a.Dims.Count; i++) g = g.Unsqueeze(a.Dims[i]);
            return [g];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
            => Tensor.From<double>(inputs[0].ToArray<double>(), Keep(inputs[0].ShapeArray, a.Dims));

        public override IEnumerable<OpSample> Samples() =>
        [
            new("all size-1 dims", () => [OpSample.Uniform(101, -1, 1, 1, 3, 1, 4)], new Attributes(new IntList(0, 2))),
            new("last dim", () => [OpSample.Uniform(102, -1, 1, 5, 1)], new Attributes(new IntList(1))),
            new("to a scalar", () => [OpSample.Uniform(103, -1, 1, 1, 1)], new Attributes(new IntList(0, 1))),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("dim of size 3", [new TensorSpec(new Shape(1, 3), DType.Float32)], new Attributes(new IntList(1))),
            new("dim out of range", [new TensorSpec(new Shape(1, 3), DType.Float32)], new Attributes(new IntList(2))),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>A view without any of the dimensions of size 1.</summary>
        public Tensor Squeeze()
        {
            var dims = new List<int>();
            for (int i = 0; i < Rank; i++)
                if (ShapeArray[i] == 1) dims.Add(i);
            return Dispatcher.Call(SqueezeOp.Instance, new SqueezeOp.Attributes(new IntList([.. dims])), this);
        }

        /// <summary>
        /// A view without those of <paramref name="dims"/> that have size 1; the others stay, as in PyTorch
        /// (negative values count from the end).
        /// </summary>
        public Tensor Squeeze(params int[] dims)
        {
            var drop = new SortedSet<int>();
            foreach (var dim in dims)
            {
                if (Rank == 0 && dim is 0 or -1) continue;
                int d = NormalizeDimFor("Squeeze", dim);
                if (ShapeArray[d] == 1) drop.Add(d);
            }
            return Dispatcher.Call(SqueezeOp.Instance, new SqueezeOp.Attributes(new IntList([.. drop])), this);
        }
    }
}
