using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>A view with the dimensions reordered: output dimension i is input dimension Dims[i]; no data moves.</summary>
    internal sealed class PermuteOp : ViewOp<PermuteOp.Attributes>
    {
        /// <summary>The input dimension each output dimension takes (non-negative, a permutation of 0..rank-1).</summary>
        internal sealed record Attributes(IntList Dims) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Ints(Dims);

            internal static Attributes Read(AttributeReader reader) => new(reader.Ints("dims"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly PermuteOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Permute";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var x = inputs[0].Shape;
            if (a.Dims.Count != x.Rank)
                throw Error($"dims {a.Dims} name {a.Dims.Count} dimensions, but the input has {x.Rank}", inputs);
            var seen = new bool[x.Rank];
            var shape = new int[x.Rank];
            for (int i = 0; i < x.Rank; i++)
            {
                int d = a.Dims[i];
                if ((uint)d >= (uint)x.Rank || seen[d])
                    throw Error($"dims {a.Dims} are not a permutation of 0..{x.Rank - 1}", inputs);
                seen[d] = true;
                shape[i] = x[d];
            }
            return new TensorSpec(Kiln.Shape.Wrap(shape), inputs[0].DType);
        }

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var shape = new int[x.Rank];
            var strides = new int[x.Rank];
            for (int i = 0; i < shape.Length; i++)
            {
                shape[i] = x.ShapeArray[a.Dims[i]];
                strides[i] = x.StridesArray[a.Dims[i]];
            }
            return x.AsStrided(shape, strides, x.OffsetElements);
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [c.Grad.Permute(Inverse(a.Dims))];

        internal static int[] Inverse(IntList dims)
        {
            var inverse = new int[dims.Count];
            for (int i = 0; i < inverse.Length; i++) inverse[dims[i]] = i;
            return inverse;
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var outShape = new int[x.Rank];
            for (int i = 0; i < outShape.Length; i++) outShape[i] = x.ShapeArray[a.Dims[i]];
            return IndexMapReference.Build(x, outShape, (o, src) =>
            {
                for (int i = 0; i < o.Length; i++) src[a.Dims[i]] = o[i];
            });
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("matrix transpose", () => [OpSample.Uniform(71, -1, 1, 3, 5)], new Attributes(new IntList(1, 0))),
            new("3-d rotate", () => [OpSample.Uniform(72, -1, 1, 2, 3, 4)], new Attributes(new IntList(2, 0, 1))),
            new("4-d NCHW to NHWC", () => [OpSample.Uniform(73, -1, 1, 2, 3, 2, 4)], new Attributes(new IntList(0, 2, 3, 1))),
            new("scalar", () => [OpSample.Uniform(74, -1, 1)], new Attributes(IntList.Empty)),
            new("empty", () => [OpSample.Uniform(75, -1, 1, 0, 3)], new Attributes(new IntList(1, 0))),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("wrong count", [new TensorSpec(new Shape(2, 3, 4), DType.Float32)], new Attributes(new IntList(1, 0))),
            new("repeated dim", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(new IntList(0, 0))),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>A view with the dimensions reordered: dimension i of the result is dimension <paramref name="dims"/>[i] of this tensor (negative values count from the end).</summary>
        public Tensor Permute(params int[] dims)
        {
            var normalized = new int[dims.Length];
            for (int i = 0; i < dims.Length; i++)
                normalized[i] = dims[i] < 0 && dims[i] >= -Rank ? dims[i] + Rank : dims[i];
            return Dispatcher.Call(PermuteOp.Instance, new PermuteOp.Attributes(new IntList(normalized)), this);
        }

        /// <summary>A view with dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped (negative values count from the end).</summary>
        public Tensor Transpose(int dim0, int dim1)
        {
            int a = NormalizeDimFor("Transpose", dim0), b = NormalizeDimFor("Transpose", dim1);
            var dims = new int[Rank];
            for (int i = 0; i < dims.Length; i++) dims[i] = i;
            (dims[a], dims[b]) = (b, a);
            return Dispatcher.Call(PermuteOp.Instance, new PermuteOp.Attributes(new IntList(dims)), this);
        }

        /// <summary>
        /// The transpose of a matrix (a view). Only 2-D tensors have one: PyTorch deprecated reversing
        /// all dimensions of other ranks, so use <see cref="MT"/> for batches of matrices or <see cref="Permute"/>.
        /// </summary>
        public Tensor T => Rank == 2
            ? Transpose(0, 1)
            : throw new KilnShapeException($"T: expects a 2-D tensor, got shape {Shape}; use MT to transpose the last two dimensions or Permute to reorder others");

        /// <summary>A view with the last two dimensions swapped: the transpose of each matrix in a batch.</summary>
        public Tensor MT => Rank >= 2
            ? Transpose(-2, -1)
            : throw new KilnShapeException($"MT: expects a tensor with at least 2 dimensions, got shape {Shape}");

        /// <summary>A dimension index in [0, rank), or a <see cref="KilnShapeException"/> naming <paramref name="op"/> and the shape.</summary>
        internal int NormalizeDimFor(string op, int dim)
        {
            if (dim < -Rank || dim >= Rank || Rank == 0)
                throw new KilnShapeException($"{op}: dimension {dim} is out of range for shape {Shape} (expected {(Rank == 0 ? "a tensor with at least 1 dimension" : $"-{Rank}..{Rank - 1}")})");
            return dim < 0 ? dim + Rank : dim;
        }
    }
}
