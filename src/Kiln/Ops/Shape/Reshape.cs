using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>A view with another shape over the same contiguous elements (-1 infers one dimension).</summary>
    internal sealed class ReshapeOp : ViewOp<ReshapeOp.Attributes>
    {
        internal sealed record Attributes(IntList Shape) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Ints(Shape);

            internal static Attributes Read(AttributeReader reader) => new(reader.Ints("shape"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly ReshapeOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Reshape";

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
            => new(Kiln.Shape.Wrap(Resolve(inputs, a.Shape.AsSpan())), inputs[0].DType);

        internal int[] Resolve(ReadOnlySpan<TensorSpec> inputs, ReadOnlySpan<int> requested)
        {
            long total = inputs[0].Shape.NumElements;
            var dims = requested.ToArray();
            int infer = -1;
            long known = 1;
            for (int i = 0; i < dims.Length; i++)
            {
                if (dims[i] == -1)
                {
                    if (infer >= 0) throw Error($"only one dimension can be -1 in {Kiln.Shape.Format(requested)}", inputs);
                    infer = i;
                }
                else if (dims[i] < 0) throw Error($"invalid dimension {dims[i]} in {Kiln.Shape.Format(requested)}", inputs);
                else known *= dims[i];
            }
            if (infer >= 0)
            {
                if (known == 0 || total % known != 0)
                    throw Error($"shape {Kiln.Shape.Format(requested)} is invalid for {total} elements", inputs);
                dims[infer] = (int)(total / known);
                known *= dims[infer];
            }
            if (known != total) throw Error($"shape {Kiln.Shape.Format(requested)} is invalid for {total} elements", inputs);
            return dims;
        }

        public override Tensor View(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0];
            var dims = Resolve([TensorSpec.Of(x)], a.Shape.AsSpan());
            var strides = ViewStrides(x.ShapeArray, x.StridesArray, dims)
                ?? throw Error($"cannot view strides {Kiln.Shape.Format(x.StridesArray)} as shape {Kiln.Shape.Format(dims)} (Tensor.Reshape copies first)", [TensorSpec.Of(x)]);
            return x.AsStrided(dims, strides, x.OffsetElements);
        }

        /// <summary>
        /// Strides that show the same elements in <paramref name="target"/> order, or null when the old
        /// layout cannot be seen that way without copying. Each run of old dimensions that is evenly
        /// strided (a chunk) must map onto whole new dimensions.
        /// </summary>
        internal static int[]? ViewStrides(int[] shape, int[] strides, int[] target)
        {
            var result = new int[target.Length];
            long numel = Kiln.Shape.Wrap(shape).NumElements;
            if (numel == 0 || shape.Length == 0)
                return Kiln.Shape.ContiguousStrides(target);
            int viewD = target.Length - 1;
            long chunkBase = strides[^1];
            long tensorNumel = 1, viewNumel = 1;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                tensorNumel *= shape[d];
                if (d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensorNumel * chunkBase))
                {
                    while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] == 1))
                    {
                        result[viewD] = (int)(viewNumel * chunkBase);
                        viewNumel *= target[viewD];
                        viewD--;
                    }
                    if (viewNumel != tensorNumel) return null;
                    if (d > 0)
                    {
                        chunkBase = strides[d - 1];
                        tensorNumel = 1;
                        viewNumel = 1;
                    }
                }
            }
            return viewD == -1 ? result : null;
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [c.Grad.Reshape(c.Input(0).ShapeArray)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
            => Tensor.From<double>(inputs[0].ToArray<double>(), Resolve([TensorSpec.Of(inputs[0])], a.Shape.AsSpan()));

        public override IEnumerable<OpSample> Samples() =>
        [
            new("matrix to 3-d", () => [OpSample.Uniform(51, -1, 1, 4, 6)], new Attributes(new IntList(2, -1, 3))),
            new("flatten", () => [OpSample.Uniform(52, -1, 1, 2, 3, 4)], new Attributes(new IntList(-1))),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("wrong element count", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(new IntList(4, 2))),
            new("two -1", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(new IntList(-1, -1))),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The same elements in another shape; a view when the tensor is contiguous, a copy otherwise. One dimension may be -1.</summary>
        public Tensor Reshape(params int[] shape)
        {
            var attributes = new ReshapeOp.Attributes(new IntList(shape));
            var source = this;
            if (!IsContiguous)
            {
                var dims = ReshapeOp.Instance.Resolve([Ops.TensorSpec.Of(this)], shape);
                if (ReshapeOp.ViewStrides(ShapeArray, StridesArray, dims) is null) source = Clone();
            }
            return Dispatcher.Call(ReshapeOp.Instance, attributes, source);
        }

        /// <summary>
        /// Merges dimensions <paramref name="startDim"/> through <paramref name="endDim"/> into one (a view
        /// when the layout allows, like <see cref="Reshape"/>). A 0-d tensor becomes a 1-element vector.
        /// </summary>
        public Tensor Flatten(int startDim = 0, int endDim = -1)
        {
            if (Rank == 0) return Reshape(1);
            int s = NormalizeDimFor("Flatten", startDim), e = NormalizeDimFor("Flatten", endDim);
            if (s > e) throw new KilnShapeException($"Flatten: startDim {startDim} comes after endDim {endDim} (shape {Shape})");
            var dims = new int[Rank - (e - s)];
            for (int i = 0; i < s; i++) dims[i] = ShapeArray[i];
            int merged = 1;
            for (int i = s; i <= e; i++) merged *= ShapeArray[i];
            dims[s] = merged;
            for (int i = e + 1; i < Rank; i++) dims[i - e + s] = ShapeArray[i];
            return Reshape(dims);
        }

        /// <summary>Splits dimension <paramref name="dim"/> into <paramref name="sizes"/> (one may be -1); the inverse of <see cref="Flatten"/>.</summary>
        public Tensor Unflatten(int dim, params int[] sizes)
        {
            int d = NormalizeDimFor("Unflatten", dim);
            var dims = new int[Rank - 1 + sizes.Length];
            for (int i = 0; i < d; i++) dims[i] = ShapeArray[i];
            long known = 1;
            int infer = -1;
            for (int i = 0; i < sizes.Length; i++)
            {
                if (sizes[i] == -1 && infer < 0) infer = d + i;
                else if (sizes[i] < 0) throw new KilnShapeException($"Unflatten: invalid sizes {Kiln.Shape.Format(sizes)} for dimension {d} of shape {Shape}");
                else known *= sizes[i];
                dims[d + i] = sizes[i];
            }
            if (infer >= 0 && known != 0 && ShapeArray[d] % known == 0) dims[infer] = (int)(ShapeArray[d] / known);
            else if (infer >= 0 || known != ShapeArray[d])
                throw new KilnShapeException($"Unflatten: sizes {Kiln.Shape.Format(sizes)} do not multiply to dimension {d} of size {ShapeArray[d]} (shape {Shape})");
            for (int i = d + 1; i < Rank; i++) dims[i - 1 + sizes.Length] = ShapeArray[i];
            return Reshape(dims);
        }

        /// <summary>Like <see cref="Reshape"/> but never copies: a layout that cannot be viewed in the new shape is an error.</summary>
        public Tensor View(params int[] shape)
        {
            return Dispatcher.Call(ReshapeOp.Instance, new ReshapeOp.Attributes(new IntList(shape)), this);
        }
    }
}
