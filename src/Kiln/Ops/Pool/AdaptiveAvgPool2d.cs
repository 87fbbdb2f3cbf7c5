using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// Adaptive 2-D average pooling of [N, C, H, W] to a fixed [N, C, OH, OW]: output row i averages
    /// input rows [floor(i·H/OH), ceil((i+1)·H/OH)), and likewise for columns (PyTorch's bins).
    /// </summary>
    internal sealed class AdaptiveAvgPool2dOp : OpDef<AdaptiveAvgPool2dOp.Attributes>
    {
        internal sealed record Attributes(int OutHeight, int OutWidth) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                writer.Int32(OutHeight);
                writer.Int32(OutWidth);
            }

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("out_height", 1), reader.Int32("out_width", 1));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly AdaptiveAvgPool2dOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["input"];

        public override string Name => "AdaptiveAvgPool2d";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;

        internal static Tensor Apply(Tensor input, Attributes a) => Dispatcher.Call(Instance, a, input);

        /// <summary>An adaptive pool from height×width to the attributes' output size needs both sizes positive.</summary>
        internal static void Check(string op, ReadOnlySpan<TensorSpec> inputs, ReadOnlySpan<string> roles, int outHeight, int outWidth, int height, int width)
        {
            if (outHeight < 1 || outWidth < 1)
                throw SpatialShapeError.Create(op, $"output size {outHeight}x{outWidth} must be positive", inputs, roles);
            if (height < 1 || width < 1)
                throw SpatialShapeError.Create(op, $"input size {height}x{width} must be positive", inputs, roles);
        }

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var x = inputs[0].Shape;
            Check(Name, inputs, Roles, a.OutHeight, a.OutWidth, x[2], x[3]);
            return new TensorSpec(new Shape(x[0], x[1], a.OutHeight, a.OutWidth), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var xs = inputs[0].ShapeArray;
            using var x = new ContiguousInput(inputs[0]);
            if (output.DType == DType.Float32)
                PoolKernel.AdaptiveAvgForward(xs[0] * xs[1], xs[2], xs[3], a.OutHeight, a.OutWidth, x.Pointer<float>(), output.Pointer<float>());
            else
                PoolKernel.AdaptiveAvgForward(xs[0] * xs[1], xs[2], xs[3], a.OutHeight, a.OutWidth, x.Pointer<double>(), output.Pointer<double>());
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var x = c.Input(0).ShapeArray;
            return [AdaptiveAvgPool2dBackwardOp.Apply(c.Grad, x[2], x[3])];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var xs = inputs[0].ShapeArray;
            var x = inputs[0].ToArray<double>();
            int planes = xs[0] * xs[1], height = xs[2], width = xs[3], oh = a.OutHeight, ow = a.OutWidth;
            var y = new double[planes * oh * ow];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                var (top, bottom) = ReferenceBin(oy, height, oh);
                var (left, right) = ReferenceBin(ox, width, ow);
                double sum = 0;
                for (int iy = top; iy < bottom; iy++)
                for (int ix = left; ix < right; ix++) sum += x[(p * height + iy) * width + ix];
                y[(p * oh + oy) * ow + ox] = sum / ((bottom - top) * (right - left));
            }
            return Tensor.From<double>(y, xs[0], xs[1], oh, ow);
        }

        /// <summary>For the references: bin i of <paramref name="outSize"/> over <paramref name="size"/>, by floating-point floor and ceiling.</summary>
        internal static (int Start, int End) ReferenceBin(int i, int size, int outSize)
            => ((int)Math.Floor((double)i * size / outSize), (int)Math.Ceiling((double)(i + 1) * size / outSize));

        /// <summary>Sizes every adaptive-pool primitive's samples cover: shrinking unevenly, identity, growing, global.</summary>
        internal static IEnumerable<(string Description, int[] Input, Attributes Attributes)> Cases() =>
        [
            ("7x9 to 3x4", [2, 3, 7, 9], new(3, 4)),
            ("identity", [1, 2, 5, 5], new(5, 5)),
            ("3x3 to 5x4", [1, 2, 3, 3], new(5, 4)),
            ("global", [2, 3, 4, 6], new(1, 1)),
            ("empty batch", [0, 2, 4, 4], new(2, 2)),
        ];

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 1100;
            foreach (var (description, input, a) in Cases())
            {
                int s = ++seed;
                yield return new OpSample(description, () => [OpSample.Uniform(s, -2, 2, input)], a);
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("zero output size", [new TensorSpec(new Shape(1, 2, 5, 5), DType.Float32)], new Attributes(0, 2)),
            new("empty image", [new TensorSpec(new Shape(1, 2, 0, 5), DType.Float32)], new Attributes(2, 2)),
            new("rank 3 input", [new TensorSpec(new Shape(2, 5, 5), DType.Float32)], new Attributes(2, 2)),
        ];
    }
}

namespace Kiln.NN
{
    using Kiln.Ops;

    public static partial class F
    {
        /// <summary>
        /// Adaptive 2-D average pooling of <paramref name="input"/> [N, C, H, W] (or [C, H, W]) to
        /// <paramref name="outputSize"/>, with PyTorch's bins (output i averages [floor(i·H/OH), ceil((i+1)·H/OH))).
        /// </summary>
        public static Tensor AdaptiveAvgPool2d(Tensor input, Size2d outputSize)
        {
            var a = new AdaptiveAvgPool2dOp.Attributes(outputSize.Height, outputSize.Width);
            return Unbatched(input, x => AdaptiveAvgPool2dOp.Apply(x, a));
        }
    }
}
