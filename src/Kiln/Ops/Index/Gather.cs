using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// PyTorch's gather: out[p] = input[p with p[dim] replaced by index[p]]; the output has the index's
    /// shape. Index and input have the same rank and the index is no larger than the input outside dim.
    /// </summary>
    internal sealed class GatherOp : OpDef<IndexAttributes>
    {
        internal static readonly GatherOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Gather";
        public override int Arity => 2;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, IndexAttributes a)
        {
            var (x, index) = (inputs[0], inputs[1]);
            IndexAttributes.RequireInt64Index(this, inputs, 1);
            if (index.Shape.Rank != x.Shape.Rank)
                throw Error($"index has {index.Shape.Rank} dimensions but the input has {x.Shape.Rank}; they must match", inputs);
            int dim = a.Resolve(this, inputs, x.Shape.Rank);
            for (int d = 0; d < x.Shape.Rank; d++)
                if (d != dim && index.Shape[d] > x.Shape[d])
                    throw Error($"index size {index.Shape[d]} exceeds the input's size {x.Shape[d]} in dimension {d} (only dimension {dim} may be larger)", inputs);
            return new TensorSpec(index.Shape, x.DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, IndexAttributes a, Tensor output)
        {
            var (x, index) = (inputs[0], inputs[1]);
            int dim = a.Resolve(this, Dispatcher.SpecsOf(inputs), x.Rank);
            var (_, xStrides) = IndexAttributes.AtLeast1D(x);
            var (indexShape, indexStrides) = IndexAttributes.AtLeast1D(index);
            int size = x.Rank == 0 ? 1 : x.ShapeArray[dim];
            long* ip = index.Pointer<long>();
            long bad;
            bool ok = x.DType.ElementSize() switch
            {
                1 => IndexKernel.Gather((byte*)x.DataPointer, xStrides, size, ip, indexShape, indexStrides, (byte*)output.DataPointer, dim, out bad),
                4 => IndexKernel.Gather((uint*)x.DataPointer, xStrides, size, ip, indexShape, indexStrides, (uint*)output.DataPointer, dim, out bad),
                _ => IndexKernel.Gather((ulong*)x.DataPointer, xStrides, size, ip, indexShape, indexStrides, (ulong*)output.DataPointer, dim, out bad),
            };
            if (!ok) throw IndexAttributes.OutOfBounds(this, bad, dim, size);
        }

        public override Tensor?[] Backward(BackwardContext c, IndexAttributes a)
        {
            if (!c.NeedsGrad(0)) return [null, null];
            var x = c.Input(0);
            return [Tensor.Zeros(x.ShapeArray, c.Grad.DType).ScatterAdd(a.Dim, c.Input(1), c.Grad), null];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, IndexAttributes a)
        {
            var (x, index) = (inputs[0], inputs[1]);
            int dim = Math.Max(a.Dim, 0);
            var values = x.ToArray<double>();
            var indices = index.ToArray<long>();
            var result = new double[indices.Length];
            for (int flat = 0; flat < indices.Length; flat++)
            {
                var p = IndexAttributes.Unravel(flat, index.ShapeArray);
                if (x.Rank > 0) p[dim] = (int)indices[flat];
                result[flat] = values[IndexAttributes.Ravel(p, x.ShapeArray)];
            }
            return Tensor.From<double>(result, index.ShapeArray);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("dim 0", () => [OpSample.Uniform(201, -1, 1, 3, 4), OpSample.Indices(202, 3, 5, 4)], new IndexAttributes(0)) { GradInputs = [0] },
            new("dim 1, smaller index", () => [OpSample.Uniform(203, -1, 1, 3, 5), OpSample.Indices(204, 5, 2, 3)], new IndexAttributes(1)) { GradInputs = [0] },
            new("3-d, last dim", () => [OpSample.Uniform(205, -1, 1, 2, 3, 4), OpSample.Indices(206, 4, 2, 2, 6)], new IndexAttributes(2)) { GradInputs = [0] },
            new("3-d, middle dim", () => [OpSample.Uniform(207, -1, 1, 2, 3, 4), OpSample.Indices(208, 3, 2, 5, 3)], new IndexAttributes(1)) { GradInputs = [0] },
            new("0-d", () => [OpSample.Uniform(209, -1, 1), OpSample.Indices(210, 1)], new IndexAttributes(0)) { GradInputs = [0] },
            new("empty index", () => [OpSample.Uniform(211, -1, 1, 3, 4), OpSample.Indices(212, 3, 0, 4)], new IndexAttributes(0)) { GradInputs = [0] },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("float index", [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 4), DType.Float32)], new IndexAttributes(0)),
            new("rank mismatch", [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(4), DType.Int64)], new IndexAttributes(0)),
            new("index too large outside dim", [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 5), DType.Int64)], new IndexAttributes(0)),
            new("dim out of range", [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 4), DType.Int64)], new IndexAttributes(2)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Values picked along <paramref name="dim"/> by an int64 <paramref name="index"/> of the same rank
        /// (PyTorch's gather): out[i, j] = this[index[i, j], j] for dim 0, this[i, index[i, j]] for dim 1.
        /// The result has the index's shape.
        /// </summary>
        public Tensor Gather(int dim, Tensor index)
            => Dispatcher.Call(GatherOp.Instance, IndexAttributes.For(dim, Rank), this, index);
    }
}
