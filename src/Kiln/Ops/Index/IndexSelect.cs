using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// PyTorch's index_select: the slices of the input at the positions a 1-D int64 index lists along
    /// dim, in the index's order (repeats allowed). The output is the input's shape with dim resized to
    /// the index's length.
    /// </summary>
    internal sealed class IndexSelectOp : OpDef<IndexAttributes>
    {
        internal static readonly IndexSelectOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "IndexSelect";
        public override int Arity => 2;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, IndexAttributes a)
        {
            var (x, index) = (inputs[0], inputs[1]);
            IndexAttributes.RequireInt64Index(this, inputs, 1);
            if (index.Shape.Rank > 1) throw Error($"index must be 1-D, got {index.Shape.Rank} dimensions", inputs);
            if (x.Shape.Rank == 0) throw Error("input must have at least one dimension", inputs);
            int dim = a.Resolve(this, inputs, x.Shape.Rank);
            var shape = x.Shape.ToArray();
            shape[dim] = (int)index.Shape.NumElements;
            return new TensorSpec(Kiln.Shape.Wrap(shape), x.DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, IndexAttributes a, Tensor output)
        {
            var index = inputs[1];
            int dim = a.Resolve(this, Dispatcher.SpecsOf(inputs), inputs[0].Rank);
            var x = IndexAttributes.Dense(inputs[0]);
            try
            {
                var (outer, size, inner) = IndexAttributes.Split(x.ShapeArray, dim);
                nint stride = index.Rank == 0 ? 0 : index.StridesArray[0];
                if (!IndexKernel.IndexSelect((byte*)x.DataPointer, outer, size, (long)inner * x.DType.ElementSize(),
                        index.Pointer<long>(), stride, index.NumElements, (byte*)output.DataPointer, out long bad))
                    throw IndexAttributes.OutOfBounds(this, bad, dim, size);
            }
            finally
            {
                if (!ReferenceEquals(x, inputs[0])) x.Dispose();
            }
        }

        public override Tensor?[] Backward(BackwardContext c, IndexAttributes a)
        {
            if (!c.NeedsGrad(0)) return [null, null];
            return [Tensor.Zeros(c.Input(0).ShapeArray, c.Grad.DType).IndexAdd(a.Dim, c.Input(1), c.Grad), null];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, IndexAttributes a)
        {
            var (x, index) = (inputs[0], inputs[1]);
            var values = x.ToArray<double>();
            var indices = index.ToArray<long>();
            var shape = x.ShapeArray.ToArray();
            shape[a.Dim] = indices.Length;
            var result = new double[Kiln.Shape.Wrap(shape).NumElements];
            for (int flat = 0; flat < result.Length; flat++)
            {
                var p = IndexAttributes.Unravel(flat, shape);
                p[a.Dim] = (int)indices[p[a.Dim]];
                result[flat] = values[IndexAttributes.Ravel(p, x.ShapeArray)];
            }
            return Tensor.From<double>(result, shape);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("rows", () => [OpSample.Uniform(241, -1, 1, 5, 3), OpSample.Indices(242, 5, 7)], new IndexAttributes(0)) { GradInputs = [0] },
            new("middle dim", () => [OpSample.Uniform(243, -1, 1, 2, 6, 3), OpSample.Indices(244, 6, 4)], new IndexAttributes(1)) { GradInputs = [0] },
            new("last dim", () => [OpSample.Uniform(245, -1, 1, 3, 4), OpSample.Indices(246, 4, 5)], new IndexAttributes(1)) { GradInputs = [0] },
            new("0-d index", () => [OpSample.Uniform(247, -1, 1, 4, 3), OpSample.Indices(248, 4)], new IndexAttributes(0)) { GradInputs = [0] },
            new("empty index", () => [OpSample.Uniform(249, -1, 1, 4, 3), OpSample.Indices(250, 4, 0)], new IndexAttributes(0)) { GradInputs = [0] },
            new("long rows", () => [OpSample.Uniform(251, -1, 1, 6, 70), OpSample.Indices(252, 6, 9)], new IndexAttributes(0)) { GradInputs = [0] },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("2-d index", [new TensorSpec(new Shape(5, 3), DType.Float32), new TensorSpec(new Shape(2, 2), DType.Int64)], new IndexAttributes(0)),
            new("int32 index", [new TensorSpec(new Shape(5, 3), DType.Float32), new TensorSpec(new Shape(4), DType.Int32)], new IndexAttributes(0)),
            new("dim out of range", [new TensorSpec(new Shape(5, 3), DType.Float32), new TensorSpec(new Shape(4), DType.Int64)], new IndexAttributes(-3)),
            new("0-d input", [new TensorSpec(new Shape(), DType.Float32), new TensorSpec(new Shape(1), DType.Int64)], new IndexAttributes(0)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// The slices of this tensor at the positions a 1-D int64 <paramref name="index"/> lists along
        /// <paramref name="dim"/>, in that order (PyTorch's index_select); repeats are allowed.
        /// </summary>
        public Tensor IndexSelect(int dim, Tensor index)
            => Dispatcher.Call(IndexSelectOp.Instance, IndexAttributes.For(dim, Rank), this, index);
    }
}
