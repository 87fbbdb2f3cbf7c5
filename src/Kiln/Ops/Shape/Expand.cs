using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>A broadcast view: size-1 dimensions repeat (stride 0) and new leading dimensions appear; no data moves.</summary>
    internal sealed class ExpandOp : ViewOp<ExpandOp.Attributes>
    {
        internal sealed record Attributes(IntList Shape) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Ints(Shape);

            internal static Attributes Read(AttributeReader reader) => new(reader.Ints("shape"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly ExpandOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Expand";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var x = inputs[0].Shape;
            var target = a.Shape.ToArray();
            int lead = target.Length - x.Rank;
            if (lead < 0) throw Error($"cannot expand rank {x.Rank} to fewer dimensions {a.Shape}", inputs);
            for (int i = 0; i < target.Length; i++)
            {
                int j = i - lead;
                if (target[i] == -1)
                {
                    if (j < 0) throw Error($"-1 is not allowed for a new leading dimension in {a.Shape}", inputs);
                    target[i] = x[j];
                }
                else if (j >= 0 && x[j] != 1 && x[j] != target[i])
                    throw Error($"dimension {j} of size {x[j]} cannot expand to {target[i]} (target {a.Shape})", inputs);
                else if (target[i] < 0) throw Error($"invalid size {target[i]} in {a.Shape}", inputs);
            }
            return new TensorSpec(Kiln.Shape.Wrap(target), inputs[0].DType);
        }

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var target = Infer([TensorSpec.Of(x)], a).Shape.ToArray();
            int lead = target.Length - x.Rank;
            var strides = new int[target.Length];
            for (int i = lead; i < target.Length; i++)
                strides[i] = x.ShapeArray[i - lead] == 1 && target[i] != 1 ? 0 : x.StridesArray[i - lead];
            return x.AsStrided(target, strides, x.OffsetElements);
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [c.Grad.SumTo(c.Input(0).Shape)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var target = Infer([TensorSpec.Of(x)], a).Shape.ToArray();
            var strides = BinaryElementwiseOp.BroadcastStrides(x.ShapeArray, target);
            var values = x.ToArray<double>();
            var result = new double[Kiln.Shape.Wrap(target).NumElements];
            for (int flat = 0; flat < result.Length; flat++)
            {
                int rem = flat, src = 0;
                for (int d = target.Length - 1; d >= 0; d--) { src += rem % target[d] * strides[d]; rem /= target[d]; }
                result[flat] = values[src];
            }
            return Tensor.From<double>(result, target);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("column to matrix", () => [OpSample.Uniform(61, -1, 1, 3, 1)], new Attributes(new IntList(3, 4))),
            new("new leading dims", () => [OpSample.Uniform(62, -1, 1, 4)], new Attributes(new IntList(2, 3, 4))),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
            [new("non-1 dimension", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(new IntList(4, 3)))];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>A broadcast view of this tensor with <paramref name="shape"/> (-1 keeps a dimension); no data is copied.</summary>
        public Tensor Expand(params int[] shape)
            => Shape == Kiln.Shape.Wrap(shape) ? this : Dispatcher.Call(ExpandOp.Instance, new ExpandOp.Attributes(new IntList(shape)), this);
    }
}
