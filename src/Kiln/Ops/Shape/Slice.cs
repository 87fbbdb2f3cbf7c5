using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>
    /// A view of every Step-th element of one dimension from Start up to (not including) End; no
    /// data moves. Attributes are normalized by the entry points: 0 &lt;= Start &lt;= End &lt;= size, Step &gt;= 1.
    /// </summary>
    internal sealed class SliceOp : ViewOp<SliceOp.Attributes>
    {
        internal sealed record Attributes(int Dim, int Start, int End, int Step) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                writer.Int32(Dim);
                writer.Int32(Start);
                writer.Int32(End);
                writer.Int32(Step);
            }

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("dim"), reader.Int32("start"), reader.Int32("end"), reader.Int32("step"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly SliceOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Slice";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var x = inputs[0].Shape;
            if ((uint)a.Dim >= (uint)x.Rank)
                throw Error($"dimension {a.Dim} is out of range for rank {x.Rank}", inputs);
            if (a.Step < 1) throw Error($"step must be positive, got {a.Step}", inputs);
            int size = x[a.Dim];
            if (a.Start < 0 || a.Start > a.End || a.End > size)
                throw Error($"range {a.Start}..{a.End} is not within dimension {a.Dim} of size {size}", inputs);
            var shape = x.ToArray();
            shape[a.Dim] = Length(a);
            return new TensorSpec(Kiln.Shape.Wrap(shape), inputs[0].DType);
        }

        internal static int Length(Attributes a) => (a.End - a.Start + a.Step - 1) / a.Step;

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var shape = (int[])x.ShapeArray.Clone();
            var strides = (int[])x.StridesArray.Clone();
            shape[a.Dim] = Length(a);
            strides[a.Dim] *= a.Step;
            int offset = shape[a.Dim] == 0 ? x.OffsetElements : x.OffsetElements + a.Start * x.StridesArray[a.Dim];
            return x.AsStrided(shape, strides, offset);
        }

        /// <summary>
        /// The gradient lands on every Step-th position of the input's dimension and zeros elsewhere:
        /// each gradient slice is followed by Step-1 zero slices, then the block is padded to the input size.
        /// </summary>
        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var g = c.Grad;
            int size = c.Input(0).ShapeArray[a.Dim];
            int length = g.ShapeArray[a.Dim];
            if (a.Step > 1 && length > 0)
            {
                var column = g.Unsqueeze(a.Dim + 1);
                var gapShape = column.ShapeArray.ToArray();
                gapShape[a.Dim + 1] = a.Step - 1;
                var gap = Tensor.Zeros(gapShape, g.DType);
                var interleaved = Tensor.Cat([column, gap], a.Dim + 1);
                if (!interleaved.RequiresGrad) gap.Dispose();
                var merged = g.ShapeArray.ToArray();
                merged[a.Dim] = length * a.Step;
                g = interleaved.Reshape(merged).Narrow(a.Dim, 0, Math.Min(length * a.Step, size - a.Start));
            }
            return [CatOp.PadWithZeros(g, a.Dim, a.Start, size - a.Start - g.ShapeArray[a.Dim])];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var outShape = (int[])x.ShapeArray.Clone();
            outShape[a.Dim] = Length(a);
            return IndexMapReference.Build(x, outShape, (o, src) =>
            {
                o.CopyTo(src, 0);
                src[a.Dim] = a.Start + o[a.Dim] * a.Step;
            });
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("rows 1..3", () => [OpSample.Uniform(81, -1, 1, 5, 4)], new Attributes(0, 1, 3, 1)),
            new("columns with step 2", () => [OpSample.Uniform(82, -1, 1, 3, 7)], new Attributes(1, 1, 6, 2)),
            new("step 3 to the end", () => [OpSample.Uniform(83, -1, 1, 2, 10, 2)], new Attributes(1, 0, 10, 3)),
            new("middle dim, step larger than range", () => [OpSample.Uniform(84, -1, 1, 2, 6, 3)], new Attributes(1, 4, 6, 5)),
            new("empty result", () => [OpSample.Uniform(85, -1, 1, 4, 3)], new Attributes(0, 2, 2, 1)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("end past the size", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(1, 0, 4, 1)),
            new("zero step", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(0, 0, 2, 0)),
            new("dim out of range", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(2, 0, 1, 1)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// A view of elements <paramref name="start"/>, start+step, ... before <paramref name="end"/> along
        /// <paramref name="dim"/>, like Python's <c>x[start:end:step]</c>: negative bounds count from the end,
        /// null means the start or end of the dimension, and bounds past either end are clamped.
        /// </summary>
        public Tensor Slice(int dim, int? start = null, int? end = null, int step = 1)
        {
            int d = NormalizeDimFor("Slice", dim);
            if (step < 1) throw new KilnShapeException($"Slice: step must be positive, got {step} (shape {Shape}, dimension {d})");
            int size = ShapeArray[d];
            int s = ClampBound(start ?? 0, size), e = ClampBound(end ?? size, size);
            if (e < s) e = s;
            return Dispatcher.Call(SliceOp.Instance, new SliceOp.Attributes(d, s, e, step), this);
        }

        private static int ClampBound(int bound, int size)
        {
            if (bound < 0) bound += size;
            return Math.Clamp(bound, 0, size);
        }

        /// <summary>A view of <paramref name="length"/> elements of <paramref name="dim"/> starting at <paramref name="start"/> (negative counts from the end).</summary>
        public Tensor Narrow(int dim, int start, int length)
        {
            int d = NormalizeDimFor("Narrow", dim);
            int size = ShapeArray[d];
            if (start < -size || start > size)
                throw new KilnShapeException($"Narrow: start {start} is out of range for dimension {d} of size {size} (shape {Shape})");
            if (start < 0) start += size;
            if (length < 0 || start + length > size)
                throw new KilnShapeException($"Narrow: start {start} + length {length} exceeds dimension {d} of size {size} (shape {Shape})");
            return Dispatcher.Call(SliceOp.Instance, new SliceOp.Attributes(d, start, start + length, 1), this);
        }

        /// <summary>Views of consecutive pieces of <paramref name="splitSize"/> elements along <paramref name="dim"/>; the last may be smaller.</summary>
        public Tensor[] Split(int splitSize, int dim = 0)
        {
            int d = NormalizeDimFor("Split", dim);
            int size = ShapeArray[d];
            if (splitSize < 0 || (splitSize == 0 && size != 0))
                throw new KilnShapeException($"Split: split size must be positive, got {splitSize} (shape {Shape}, dimension {d})");
            if (size == 0) return [Narrow(d, 0, 0)];
            var pieces = new Tensor[(size + splitSize - 1) / splitSize];
            for (int i = 0; i < pieces.Length; i++)
                pieces[i] = Narrow(d, i * splitSize, Math.Min(splitSize, size - i * splitSize));
            return pieces;
        }

        /// <summary>Views of consecutive pieces of the given sizes along <paramref name="dim"/>; the sizes must add up to the dimension's size.</summary>
        public Tensor[] Split(int[] sizes, int dim = 0)
        {
            int d = NormalizeDimFor("Split", dim);
            long total = 0;
            foreach (var s in sizes)
            {
                if (s < 0) throw new KilnShapeException($"Split: sizes {Kiln.Shape.Format(sizes)} contain a negative size (shape {Shape})");
                total += s;
            }
            if (total != ShapeArray[d])
                throw new KilnShapeException($"Split: sizes {Kiln.Shape.Format(sizes)} add up to {total}, but dimension {d} of shape {Shape} has size {ShapeArray[d]}");
            var pieces = new Tensor[sizes.Length];
            int start = 0;
            for (int i = 0; i < sizes.Length; i++)
            {
                pieces[i] = Narrow(d, start, sizes[i]);
                start += sizes[i];
            }
            return pieces;
        }

        /// <summary>
        /// Splits <paramref name="dim"/> into <paramref name="chunks"/> views of equal size (the last may be
        /// smaller), as PyTorch does: each has ceil(size / chunks) elements, so fewer chunks may come back.
        /// </summary>
        public Tensor[] Chunk(int chunks, int dim = 0)
        {
            if (chunks < 1) throw new KilnShapeException($"Chunk: the number of chunks must be positive, got {chunks} (shape {Shape})");
            int d = NormalizeDimFor("Chunk", dim);
            int size = ShapeArray[d];
            return Split((size + chunks - 1) / chunks, d);
        }
    }
}
