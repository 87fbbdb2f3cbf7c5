using System.Numerics;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// PyTorch's scatter_add, out of place: out = input, then out[p with p[dim] replaced by index[p]] +=
    /// source[p] for every position p of the index's shape. Input, index and source have one rank; the
    /// index is no larger than the source anywhere, nor than the input outside dim.
    /// </summary>
    internal sealed class ScatterAddOp : OpDef<IndexAttributes>
    {
        internal static readonly ScatterAddOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "ScatterAdd";
        public override int Arity => 3;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, IndexAttributes a)
        {
            var (x, index, source) = (inputs[0], inputs[1], inputs[2]);
            IndexAttributes.RequireNumeric(this, inputs);
            IndexAttributes.RequireInt64Index(this, inputs, 1);
            if (source.DType != x.DType)
                throw Error($"source dtype {source.DType.Name()} differs from the input's {x.DType.Name()}", inputs);
            int rank = x.Shape.Rank;
            if (index.Shape.Rank != rank || source.Shape.Rank != rank)
                throw Error($"input, index and source must have one rank, got {rank}, {index.Shape.Rank} and {source.Shape.Rank}", inputs);
            int dim = a.Resolve(this, inputs, rank);
            for (int d = 0; d < rank; d++)
            {
                if (index.Shape[d] > source.Shape[d])
                    throw Error($"index size {index.Shape[d]} exceeds the source's size {source.Shape[d]} in dimension {d}", inputs);
                if (d != dim && index.Shape[d] > x.Shape[d])
                    throw Error($"index size {index.Shape[d]} exceeds the input's size {x.Shape[d]} in dimension {d} (only dimension {dim} may be larger)", inputs);
            }
            return x;
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, IndexAttributes a, Tensor output)
        {
            int dim = a.Resolve(this, Dispatcher.SpecsOf(inputs), inputs[0].Rank);
            Dispatcher.CopyInto(inputs[0], output);
            switch (output.DType)
            {
                case DType.Float32: Scatter<float>(inputs, output, dim); break;
                case DType.Float64: Scatter<double>(inputs, output, dim); break;
                case DType.Int32: Scatter<int>(inputs, output, dim); break;
                case DType.Int64: Scatter<long>(inputs, output, dim); break;
            }
        }

        private unsafe void Scatter<T>(ReadOnlySpan<Tensor> inputs, Tensor output, int dim) where T : unmanaged, INumber<T>
        {
            var (index, source) = (inputs[1], inputs[2]);
            var (_, outputStrides) = IndexAttributes.AtLeast1D(output);
            var (indexShape, indexStrides) = IndexAttributes.AtLeast1D(index);
            var (_, sourceStrides) = IndexAttributes.AtLeast1D(source);
            int size = output.Rank == 0 ? 1 : output.ShapeArray[dim];
            if (!IndexKernel.ScatterAdd(output.Pointer<T>(), outputStrides, size, index.Pointer<long>(), indexShape, indexStrides,
                    source.Pointer<T>(), sourceStrides, dim, out long bad))
                throw IndexAttributes.OutOfBounds(this, bad, dim, size);
        }

        public override Tensor?[] Backward(BackwardContext c, IndexAttributes a)
        {
            Tensor? source = null;
            if (c.NeedsGrad(2))
            {
                source = c.Grad.Gather(a.Dim, c.Input(1));
                // The source may be larger than the index; its elements the index never reaches get zero.
                var target = c.Input(2).ShapeArray;
                for (int d = 0; d < target.Length; d++)
                {
                    int have = source.ShapeArray[d];
                    if (have == target[d]) continue;
                    var shape = source.ShapeArray.ToArray();
                    shape[d] = target[d];
                    source = Tensor.Zeros(shape, source.DType).IndexAdd(d, Tensor.Arange(have), source);
                }
            }
            return [c.NeedsGrad(0) ? c.Grad : null, null, source];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, IndexAttributes a)
        {
            var (x, index, source) = (inputs[0], inputs[1], inputs[2]);
            int dim = Math.Max(a.Dim, 0);
            var result = x.ToArray<double>();
            var indices = index.ToArray<long>();
            var values = source.ToArray<double>();
            for (int flat = 0; flat < indices.Length; flat++)
            {
                var p = IndexAttributes.Unravel(flat, index.ShapeArray);
                double v = values[IndexAttributes.Ravel(p, source.ShapeArray)];
                if (x.Rank > 0) p[dim] = (int)indices[flat];
                result[IndexAttributes.Ravel(p, x.ShapeArray)] += v;
            }
            return Tensor.From<double>(result, x.ShapeArray);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("dim 0", () => [OpSample.Uniform(221, -1, 1, 3, 4), OpSample.Indices(222, 3, 5, 4), OpSample.Uniform(223, -1, 1, 5, 4)],
                new IndexAttributes(0)) { GradInputs = [0, 2] },
            new("dim 1, larger source", () => [OpSample.Uniform(224, -1, 1, 3, 5), OpSample.Indices(225, 5, 3, 2), OpSample.Uniform(226, -1, 1, 3, 4)],
                new IndexAttributes(1)) { GradInputs = [0, 2] },
            new("3-d, source larger in two dims", () => [OpSample.Uniform(227, -1, 1, 2, 3, 4), OpSample.Indices(228, 3, 1, 5, 4), OpSample.Uniform(229, -1, 1, 2, 6, 4)],
                new IndexAttributes(1)) { GradInputs = [0, 2] },
            new("0-d", () => [OpSample.Uniform(230, -1, 1), OpSample.Indices(231, 1), OpSample.Uniform(232, -1, 1)],
                new IndexAttributes(0)) { GradInputs = [0, 2] },
            new("empty index", () => [OpSample.Uniform(233, -1, 1, 3, 4), OpSample.Indices(234, 3, 0, 4), OpSample.Uniform(235, -1, 1, 2, 4)],
                new IndexAttributes(0)) { GradInputs = [0, 2] },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("source dtype differs",
                [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 4), DType.Int64), new TensorSpec(new Shape(2, 4), DType.Float64)],
                new IndexAttributes(0)),
            new("index larger than source",
                [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 4), DType.Int64), new TensorSpec(new Shape(1, 4), DType.Float32)],
                new IndexAttributes(0)),
            new("index larger than input outside dim",
                [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 5), DType.Int64), new TensorSpec(new Shape(2, 5), DType.Float32)],
                new IndexAttributes(0)),
            new("int32 index",
                [new TensorSpec(new Shape(3, 4), DType.Float32), new TensorSpec(new Shape(2, 4), DType.Int32), new TensorSpec(new Shape(2, 4), DType.Float32)],
                new IndexAttributes(0)),
            new("bool input",
                [new TensorSpec(new Shape(3, 4), DType.Bool), new TensorSpec(new Shape(2, 4), DType.Int64), new TensorSpec(new Shape(2, 4), DType.Bool)],
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
        /// A copy of this tensor with <paramref name="source"/> added at the positions an int64
        /// <paramref name="index"/> picks along <paramref name="dim"/> (PyTorch's scatter_add): for dim 0,
        /// out[index[i, j], j] += source[i, j]. Repeated indices accumulate.
        /// </summary>
        public Tensor ScatterAdd(int dim, Tensor index, Tensor source)
            => Dispatcher.Call(ScatterAddOp.Instance, IndexAttributes.For(dim, Rank), this, index, source);

        /// <summary>The in-place form of <see cref="ScatterAdd"/>: adds into this tensor and returns it.</summary>
        public Tensor ScatterAddInPlace(int dim, Tensor index, Tensor source)
            => Dispatcher.CallInPlace(ScatterAddOp.Instance, IndexAttributes.For(dim, Rank), this, this, index, source);
    }
}
