using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Joins any number of tensors along one existing dimension; the others must match.</summary>
    internal sealed class CatOp : OpDef<CatOp.Attributes>
    {
        /// <summary>The dimension to join along, normalized: 0 &lt;= Dim &lt; rank.</summary>
        internal sealed record Attributes(int Dim) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Int32(Dim);

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("dim"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly CatOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Cat";
        public override int Arity => Variadic;
        public override bool BackwardReadsInputs => false;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var first = inputs[0];
            for (int i = 0; i < inputs.Length; i++)
                if (inputs[i].Shape.Rank == 0)
                    throw Error($"the zero-dimensional tensor at position {i} cannot be concatenated", inputs);
            if ((uint)a.Dim >= (uint)first.Shape.Rank)
                throw Error($"dimension {a.Dim} is out of range for rank {first.Shape.Rank}", inputs);
            var shape = first.Shape.ToArray();
            for (int i = 1; i < inputs.Length; i++)
            {
                var s = inputs[i].Shape;
                if (inputs[i].DType != first.DType)
                    throw Error($"dtypes differ: {first.DType.Name()} at position 0 and {inputs[i].DType.Name()} at position {i}", inputs);
                if (s.Rank != first.Shape.Rank)
                    throw Error($"tensors must have the same rank: {first.Shape} at position 0 and {s} at position {i}", inputs);
                for (int d = 0; d < s.Rank; d++)
                    if (d != a.Dim && s[d] != first.Shape[d])
                        throw Error($"tensors must have the same shape except in dimension {a.Dim}: {first.Shape} at position 0 and {s} at position {i} differ in dimension {d}", inputs);
                shape[a.Dim] += s[a.Dim];
            }
            return new TensorSpec(Kiln.Shape.Wrap(shape), first.DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            int elementSize = output.DType.ElementSize();
            long offset = 0;
            foreach (var x in inputs)
            {
                if (x.NumElements > 0)
                {
                    var layout = StridedLayout.Create(x.ShapeArray, output.StridesArray, (x.ShapeArray, x.StridesArray));
                    var dst = (byte*)output.DataPointer + offset * output.StridesArray[a.Dim] * elementSize;
                    CopyKernel.Copy(layout, dst, (byte*)x.DataPointer, elementSize);
                }
                offset += x.ShapeArray[a.Dim];
            }
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var grads = new Tensor?[c.Inputs.Length];
            int offset = 0;
            for (int i = 0; i < grads.Length; i++)
            {
                int size = c.Input(i).ShapeArray[a.Dim];
                if (c.NeedsGrad(i)) grads[i] = c.Grad.Narrow(a.Dim, offset, size);
                offset += size;
            }
            return grads;
        }

        /// <summary><paramref name="g"/> with <paramref name="before"/> and <paramref name="after"/> zero slices around it along <paramref name="dim"/> (the gradient of a slice).</summary>
        internal static Tensor PadWithZeros(Tensor g, int dim, int before, int after)
        {
            if (before == 0 && after == 0) return g;
            var parts = new List<Tensor>(3);
            var zeros = new List<Tensor>(2);
            if (before > 0) parts.Add(ZerosAlong(g, dim, before, zeros));
            parts.Add(g);
            if (after > 0) parts.Add(ZerosAlong(g, dim, after, zeros));
            var result = Dispatcher.Call(Instance, new Attributes(dim), parts.ToArray());
            // A recorded node keeps its inputs (a graph for a second derivative); otherwise the zeros are done.
            if (!result.RequiresGrad)
                foreach (var z in zeros) z.Dispose();
            return result;
        }

        private static Tensor ZerosAlong(Tensor like, int dim, int size, List<Tensor> made)
        {
            var shape = like.ShapeArray.ToArray();
            shape[dim] = size;
            var z = Tensor.Zeros(shape, like.DType);
            made.Add(z);
            return z;
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var values = new double[inputs.Length][];
            var starts = new int[inputs.Length + 1];
            for (int i = 0; i < inputs.Length; i++)
            {
                values[i] = inputs[i].ToArray<double>();
                starts[i + 1] = starts[i] + inputs[i].ShapeArray[a.Dim];
            }
            var shape = inputs[0].ShapeArray.ToArray();
            shape[a.Dim] = starts[^1];
            var result = new double[Kiln.Shape.Wrap(shape).NumElements];
            var index = new int[shape.Length];
            for (int flat = 0; flat < result.Length; flat++)
            {
                int rem = flat;
                for (int d = shape.Length - 1; d >= 0; d--) { index[d] = rem % shape[d]; rem /= shape[d]; }
                int k = 0;
                while (index[a.Dim] >= starts[k + 1]) k++;
                var own = inputs[k].ShapeArray;
                int src = 0;
                for (int d = 0; d < own.Length; d++) src = src * own[d] + (d == a.Dim ? index[d] - starts[k] : index[d]);
                result[flat] = values[k][src];
            }
            return Tensor.From<double>(result, shape);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("three along columns", () => [OpSample.Uniform(121, -1, 1, 2, 3), OpSample.Uniform(122, -1, 1, 2, 1), OpSample.Uniform(123, -1, 1, 2, 4)], new Attributes(1)),
            new("two along rows", () => [OpSample.Uniform(124, -1, 1, 2, 3), OpSample.Uniform(125, -1, 1, 4, 3)], new Attributes(0)),
            new("middle dim of 3-d", () => [OpSample.Uniform(126, -1, 1, 2, 1, 3), OpSample.Uniform(127, -1, 1, 2, 2, 3)], new Attributes(1)),
            new("with an empty input", () => [OpSample.Uniform(128, -1, 1, 0, 3), OpSample.Uniform(129, -1, 1, 2, 3)], new Attributes(0)),
            new("one input", () => [OpSample.Uniform(130, -1, 1, 5)], new Attributes(0)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("other dim differs", [new TensorSpec(new Shape(2, 3), DType.Float32), new TensorSpec(new Shape(4, 3), DType.Float32)], new Attributes(1)),
            new("ranks differ", [new TensorSpec(new Shape(2, 3), DType.Float32), new TensorSpec(new Shape(3), DType.Float32)], new Attributes(0)),
            new("dtypes differ", [new TensorSpec(new Shape(2, 3), DType.Float32), new TensorSpec(new Shape(2, 3), DType.Float64)], new Attributes(0)),
            new("zero-dimensional", [new TensorSpec(new Shape(), DType.Float32), new TensorSpec(new Shape(), DType.Float32)], new Attributes(0)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Joins <paramref name="tensors"/> along the existing dimension <paramref name="dim"/>; every other
        /// dimension must match. Dtypes are promoted as in PyTorch, and 1-D empty tensors (shape [0]) are
        /// skipped, so a result can be grown from an empty start.
        /// </summary>
        public static Tensor Cat(IReadOnlyList<Tensor> tensors, int dim = 0)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            if (tensors.Count == 0) throw new KilnShapeException("Cat: expects at least one tensor, got none");
            var kept = new List<Tensor>(tensors.Count);
            foreach (var t in tensors)
            {
                ArgumentNullException.ThrowIfNull(t, nameof(tensors));
                if (!(t.Rank == 1 && t.ShapeArray[0] == 0)) kept.Add(t);
            }
            if (kept.Count == 0) kept.Add(tensors[0]);
            var dtype = kept[0].DType;
            foreach (var t in kept) dtype = DTypeInfo.Promote(dtype, t.DType);
            var inputs = new Tensor[kept.Count];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = kept[i].To(dtype);
            int rank = inputs[0].Rank;
            if (rank > 0 && (dim < -rank || dim >= rank))
                throw new KilnShapeException($"Cat: dimension {dim} is out of range for shape {inputs[0].Shape} (expected {-rank}..{rank - 1})");
            return Dispatcher.Call(CatOp.Instance, new CatOp.Attributes(dim < 0 ? dim + rank : dim), inputs);
        }

        /// <summary>Joins tensors of one shape along a new dimension <paramref name="dim"/> (in -rank-1..rank).</summary>
        public static Tensor Stack(IReadOnlyList<Tensor> tensors, int dim = 0)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            if (tensors.Count == 0) throw new KilnShapeException("Stack: expects at least one tensor, got none");
            var shape = tensors[0].Shape;
            for (int i = 1; i < tensors.Count; i++)
                if (tensors[i].Shape != shape)
                    throw new KilnShapeException($"Stack: expects tensors of one shape, got {shape} at position 0 and {tensors[i].Shape} at position {i}");
            if (dim < -shape.Rank - 1 || dim > shape.Rank)
                throw new KilnShapeException($"Stack: dimension {dim} is out of range for tensors of shape {shape} (expected {-shape.Rank - 1}..{shape.Rank})");
            if (dim < 0) dim += shape.Rank + 1;
            var expanded = new Tensor[tensors.Count];
            for (int i = 0; i < expanded.Length; i++) expanded[i] = tensors[i].Unsqueeze(dim);
            return Cat(expanded, dim);
        }
    }
}
