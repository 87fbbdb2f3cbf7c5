using System.Numerics;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// PyTorch's index_add, out of place: out = input, then slice j of the source along dim is added to
    /// slice index[j] of out (repeats accumulate, in index order). The gradient of IndexSelect; its own
    /// gradient is IndexSelect again.
    /// </summary>
    internal sealed class IndexAddOp : OpDef<IndexAttributes>
    {
        internal static readonly IndexAddOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "IndexAdd";
        public override int Arity => 3;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, IndexAttributes a)
        {
            var (x, index, source) = (inputs[0], inputs[1], inputs[2]);
            IndexAttributes.RequireNumeric(this, inputs);
            IndexAttributes.RequireInt64Index(this, inputs, 1);
            if (source.DType != x.DType)
                throw Error($"source dtype {source.DType.Name()} differs from the input's {x.DType.Name()}", inputs);
            if (index.Shape.Rank > 1) throw Error($"index must be 1-D, got {index.Shape.Rank} dimensions", inputs);
            if (x.Shape.Rank == 0) throw Error("input must have at least one dimension", inputs);
            int dim = a.Resolve(this, inputs, x.Shape.Rank);
            var expected = x.Shape.ToArray();
            expected[dim] = (int)index.Shape.NumElements;
            if (source.Shape != Kiln.Shape.Wrap(expected))
                throw Error($"source must have shape {Kiln.Shape.Format(expected)} (the input's, with dimension {dim} the index's length), got {source.Shape}", inputs);
            return x;
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, IndexAttributes a, Tensor output)
        {
            int dim = a.Resolve(this, Dispatcher.SpecsOf(inputs), inputs[0].Rank);
            Dispatcher.CopyInto(inputs[0], output);
            switch (output.DType)
            {
                case DType.Float32: Add<float>(inputs, output, dim); break;
                case DType.Float64: Add<double>(inputs, output, dim); break;
                case DType.Int32: Add<int>(inputs, output, dim); break;
                case DType.Int64: Add<long>(inputs, output, dim); break;
            }
        }

        private unsafe void Add<T>(ReadOnlySpan<Tensor> inputs, Tensor output, int dim) where T : unmanaged, INumber<T>
        {
            var index = inputs[1];
            var source = IndexAttributes.Dense(inputs[2]);
            try
            {
                var (outer, size, inner) = IndexAttributes.Split(output.ShapeArray, dim);
                nint stride = index.Rank == 0 ? 0 : index.StridesArray[0];
                if (!IndexKernel.IndexAdd(output.Pointer<T>(), outer, size, inner, index.Pointer<long>(), stride, index.NumElements,
                        source.Pointer<T>(), out long bad))
                    throw IndexAttributes.OutOfBounds(this, bad, dim, size);
            }
            finally
            {
                if (!ReferenceEquals(source, inputs[2])) source.Dispose();
            }
        }

        public override Tensor?[] Backward(BackwardContext c, IndexAttributes a) =>
        [
            c.NeedsGrad(0) ? c.Grad : null,
            null,
            c.NeedsGrad(2) ? c.Grad.IndexSelect(a.Dim, c.Input(1)) : null,
        ];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, IndexAttributes a)
        {
            var (x, index, source) = (inputs[0], inputs[1], inputs[2]);
            var result = x.ToArray<double>();
            var indices = index.ToArray<long>();
            var values = source.ToArray<double>();
            var sourceShape = source.ShapeArray;
            for (int flat = 0; flat < values.Length; flat++)
            {
                var p = IndexAttributes.Unravel(flat, sourceShape);
                p[a.Dim] = (int)indices[p[a.Dim]];
                result[IndexAttributes.Ravel(p, x.ShapeArray)] += values[flat];
            }
            return Tensor.From<double>(result, x.ShapeArray);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("rows", () => [OpSample.Uniform(261, -1, 1, 5, 3), OpSample.Indices(262, 5, 7), OpSample.Uniform(263, -1, 1, 7, 3)],
                new IndexAttributes(0)) { GradInputs = [0, 2] },
            new("middle dim", () => [OpSample.Uniform(264, -1, 1, 2, 6, 3), OpSample.Indices(265, 6, 4), OpSample.Uniform(266, -1, 1, 2, 4, 3)],
                new IndexAttributes(1)) { GradInputs = [0, 2] },
            new("last dim", () => [OpSample.Uniform(267, -1, 1, 3, 4), OpSample.Indices(268, 4, 6), OpSample.Uniform(269, -1, 1, 3, 6)],
                new IndexAttributes(1)) { GradInputs = [0, 2] },
            new("empty index", () => [OpSample.Uniform(270, -1, 1, 4, 3), OpSample.Indices(271, 4, 0), OpSample.Uniform(272, -1, 1, 0, 3)],
                new IndexAttributes(0)) { GradInputs = [0, 2] },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("source shape",
                [new TensorSpec(new Shape(5, 3), DType.Float32), new TensorSpec(new Shape(4), DType.Int64), new TensorSpec(new Shape(4, 2), DType.Float32)],
                new IndexAttributes(0)),
            new("2-d index",
                [new TensorSpec(new Shape(5, 3), DType.Float32), new TensorSpec(new Shape(2, 2), DType.Int64), new TensorSpec(new Shape(4, 3), DType.Float32)],
                new IndexAttributes(0)),
            new("source dtype differs",
                [new TensorSpec(new Shape(5, 3), DType.Float64), new TensorSpec(new Shape(4), DType.Int64), new TensorSpec(new Shape(4, 3), DType.Float32)],
                new IndexAttributes(0)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// A copy of this tensor with slice j of <paramref name="source"/> along <paramref name="dim"/> added to
        /// slice index[j] (PyTorch's index_add); repeated indices accumulate.
        /// </summary>
        public Tensor IndexAdd(int dim, Tensor index, Tensor source)
            => Dispatcher.Call(IndexAddOp.Instance, IndexAttributes.For(dim, Rank), this, index, source);

        /// <summary>The in-place form of <see cref="IndexAdd"/>: adds into this tensor and returns it.</summary>
        public Tensor IndexAddInPlace(int dim, Tensor index, Tensor source)
            => Dispatcher.CallInPlace(IndexAddOp.Instance, IndexAttributes.For(dim, Rank), this, this, index, source);
    }
}
