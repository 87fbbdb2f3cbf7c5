using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// 2-D average pooling of [N, C, H, W] with PyTorch's divisor: the window clipped to the padded
    /// input, counting the padding when <see cref="Attributes.CountIncludePad"/> is set and only the
    /// input elements otherwise.
    /// </summary>
    internal sealed class AvgPool2dOp : OpDef<AvgPool2dOp.Attributes>
    {
        internal sealed record Attributes(Pool2dAttributes Window, bool CountIncludePad) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                Window.Write(writer);
                writer.Bool(CountIncludePad);
            }

            internal static Attributes Read(AttributeReader reader) => new(Pool2dAttributes.Read(reader), reader.Bool("count_include_pad"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly AvgPool2dOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["input"];

        public override string Name => "AvgPool2d";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;

        internal static Tensor Apply(Tensor input, Attributes a) => Dispatcher.Call(Instance, a, input);

        /// <summary>Checks an average pool of an input of <paramref name="height"/>×<paramref name="width"/> (no dilation) and returns its output size.</summary>
        internal static (int Height, int Width) Check(string op, ReadOnlySpan<TensorSpec> inputs, ReadOnlySpan<string> roles, Attributes a, int height, int width)
        {
            if (a.Window.Dilation.Count == 2 && (a.Window.Dilation[0] != 1 || a.Window.Dilation[1] != 1))
                throw SpatialShapeError.Create(op, $"average pooling takes no dilation, got {a.Window.Dilation}", inputs, roles);
            return a.Window.Check(op, inputs, roles, height, width);
        }

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var x = inputs[0].Shape;
            var (oh, ow) = Check(Name, inputs, Roles, a, x[2], x[3]);
            return new TensorSpec(new Shape(x[0], x[1], oh, ow), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var (xs, ys) = (inputs[0].ShapeArray, output.ShapeArray);
            var window = a.Window.Window(xs[2], xs[3], ys[2], ys[3]);
            int planes = xs[0] * xs[1];
            using var x = new ContiguousInput(inputs[0]);
            if (output.DType == DType.Float32) PoolKernel.AvgForward(window, planes, a.CountIncludePad, x.Pointer<float>(), output.Pointer<float>());
            else PoolKernel.AvgForward(window, planes, a.CountIncludePad, x.Pointer<double>(), output.Pointer<double>());
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var x = c.Input(0).ShapeArray;
            return [AvgPool2dBackwardOp.Apply(c.Grad, a, x[2], x[3])];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var xs = inputs[0].ShapeArray;
            var x = inputs[0].ToArray<double>();
            var (oh, ow) = Check(Name, [TensorSpec.Of(inputs[0])], Roles, a, xs[2], xs[3]);
            int planes = xs[0] * xs[1], height = xs[2], width = xs[3];
            var y = new double[planes * oh * ow];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                double sum = 0;
                int count = 0;
                foreach (var (iy, ix) in a.Window.Taps(oy, ox, height, width))
                {
                    sum += x[(p * height + iy) * width + ix];
                    count++;
                }
                int divisor = a.CountIncludePad ? ReferencePaddedCount(a.Window, oy, ox, height, width) : count;
                y[(p * oh + oy) * ow + ox] = count == 0 ? 0 : sum / divisor;
            }
            return Tensor.From<double>(y, xs[0], xs[1], oh, ow);
        }

        /// <summary>For the references: how many window positions of (oy, ox) lie inside the padded input (PyTorch's count with padding).</summary>
        internal static int ReferencePaddedCount(Pool2dAttributes w, int oy, int ox, int height, int width)
        {
            int count = 0;
            for (int ky = 0; ky < w.Kernel[0]; ky++)
            for (int kx = 0; kx < w.Kernel[1]; kx++)
            {
                int iy = oy * w.Stride[0] - w.Padding[0] + ky, ix = ox * w.Stride[1] - w.Padding[1] + kx;
                if (iy < height + w.Padding[0] && ix < width + w.Padding[1]) count++;
            }
            return count;
        }

        /// <summary>Windows every average-pool primitive's samples cover.</summary>
        internal static IEnumerable<(string Description, int[] Input, Attributes Attributes, bool CheckGradient)> Cases() =>
        [
            ("2x2 stride 2", [2, 3, 6, 7], new(Pool2dAttributes.Create(2, 2, 2, 2), true), true),
            ("3x3 stride 2 padding 1 counting padding", [1, 2, 7, 6], new(Pool2dAttributes.Create(3, 3, 2, 2, 1, 1), true), true),
            ("3x3 stride 2 padding 1 not counting padding", [1, 2, 7, 6], new(Pool2dAttributes.Create(3, 3, 2, 2, 1, 1), false), true),
            ("ceil mode with padding", [1, 2, 6, 7], new(Pool2dAttributes.Create(3, 3, 2, 2, 1, 1, ceilMode: true), true), true),
            ("ceil mode not counting padding", [1, 2, 8, 5], new(Pool2dAttributes.Create(3, 2, 2, 2, 1, 0, ceilMode: true), false), true),
            ("2x3 stride 1", [1, 2, 5, 6], new(Pool2dAttributes.Create(2, 3, 1, 1, 1, 1), true), true),
            ("empty batch", [0, 2, 4, 4], new(Pool2dAttributes.Create(2, 2, 2, 2), true), true),
            ("larger", [2, 3, 17, 19], new(Pool2dAttributes.Create(3, 3, 2, 2, 1, 1), false), false),
        ];

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 900;
            foreach (var (description, input, a, check) in Cases())
            {
                int s = ++seed;
                yield return new OpSample(description, () => [OpSample.Uniform(s, -2, 2, input)], a) { CheckGradient = check };
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            var input = new TensorSpec(new Shape(1, 2, 5, 5), DType.Float32);
            foreach (var (description, w) in MaxPool2dOp.InvalidWindows()) yield return new(description, [input], new Attributes(w, true));
            yield return new("dilation", [input], new Attributes(Pool2dAttributes.Create(2, 2, 2, 2, dilationH: 2), true));
            yield return new("rank 2 input", [new TensorSpec(new Shape(5, 5), DType.Float32)], new Attributes(Pool2dAttributes.Create(2, 2, 2, 2), true));
        }
    }
}

namespace Kiln.NN
{
    using Kiln.Ops;

    public static partial class F
    {
        /// <summary>
        /// 2-D average pooling of <paramref name="input"/> [N, C, H, W] (or [C, H, W]).
        /// <paramref name="stride"/> defaults to the kernel size. With <paramref name="countIncludePad"/>
        /// (the default, as in PyTorch) the zero padding counts in each window's divisor.
        /// </summary>
        public static Tensor AvgPool2d(Tensor input, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
            bool ceilMode = false, bool countIncludePad = true)
        {
            var a = new AvgPool2dOp.Attributes(PoolWindow("AvgPool2d", input, kernelSize, stride, padding, 1, ceilMode), countIncludePad);
            return Unbatched(input, x => AvgPool2dOp.Apply(x, a));
        }
    }
}
