using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>Sum over some dimensions (all when none are given), optionally keeping them as size 1.</summary>
    internal sealed class SumOp : OpDef<ReduceAttributes>
    {
        internal static readonly SumOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Sum";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Reduction;
        public override bool BackwardReadsInputs => false;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, ReduceAttributes a)
        {
            var x = inputs[0];
            if (x.DType is DType.Bool or DType.UInt8 or DType.Int8)
                throw Error($"expects a float or int32/int64 tensor, got {x.DType.Name()}", inputs);
            return new TensorSpec(a.OutputShape(this, inputs), x.DType);
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, ReduceAttributes a, Tensor output)
        {
            switch (inputs[0].DType)
            {
                case DType.Float32: ReduceRows<float>(inputs[0], a, output); break;
                case DType.Float64: ReduceRows<double>(inputs[0], a, output); break;
                case DType.Int32: ReduceRows<int>(inputs[0], a, output); break;
                case DType.Int64: ReduceRows<long>(inputs[0], a, output); break;
            }
        }

        private static void ReduceRows<T>(Tensor x, ReduceAttributes a, Tensor output) where T : unmanaged, INumber<T>
        {
            using var rows = ReduceAttributes.ReducedLast(x, a);
            var src = rows.Span<T>();
            var dst = output.Span<T>();
            int n = dst.Length == 0 ? 0 : src.Length / dst.Length;
            for (int i = 0; i < dst.Length; i++) dst[i] = TensorPrimitives.Sum<T>(src.Slice(i * n, n));
        }

        public override Tensor?[] Backward(BackwardContext c, ReduceAttributes a)
            => [a.Unreduce(c.Grad, c.Input(0).Shape)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, ReduceAttributes a)
            => a.ReferenceReduce(this, inputs[0], values => { double s = 0; foreach (var v in values) s += v; return s; });

        public override IEnumerable<OpSample> Samples() => ReduceAttributes.StandardSamples(-2, 2);

        public override IEnumerable<OpInvalidSample> InvalidSamples() => ReduceAttributes.StandardInvalidSamples();
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Sum of all elements (a 0-d tensor).</summary>
        public Tensor Sum() => Dispatcher.Call(SumOp.Instance, ReduceAttributes.All(false), this);

        /// <summary>Sum over <paramref name="dims"/>; with <paramref name="keepDim"/> they stay as size 1.</summary>
        public Tensor Sum(int[] dims, bool keepDim = false) => Dispatcher.Call(SumOp.Instance, ReduceAttributes.Create(dims, Rank, keepDim), this);

        /// <summary>Sum over one dimension.</summary>
        public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

        /// <summary>Sums broadcast dimensions away so the result has <paramref name="shape"/> (the gradient of a broadcast).</summary>
        internal Tensor SumTo(Shape shape)
        {
            if (Shape == shape) return this;
            int lead = Rank - shape.Rank;
            var axes = new List<int>();
            for (int i = 0; i < Rank; i++)
                if (i < lead || (shape[i - lead] == 1 && ShapeArray[i] != 1)) axes.Add(i);
            var summed = axes.Count == 0 ? this : Sum(axes.ToArray(), keepDim: true);
            return summed.Reshape(shape.ToArray());
        }
    }
}
