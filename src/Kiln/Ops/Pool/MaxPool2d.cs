using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// 2-D max pooling of [N, C, H, W]: each output is the maximum of its window (padding never wins;
    /// NaN does, as in PyTorch). The backward pass recomputes the window maxima from the saved input,
    /// so no index tensor is kept.
    /// </summary>
    internal sealed class MaxPool2dOp : OpDef<Pool2dAttributes>
    {
        internal static readonly MaxPool2dOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["input"];

        public override string Name => "MaxPool2d";
        public override int Arity => 1;

        internal static Tensor Apply(Tensor input, Pool2dAttributes a) => Dispatcher.Call(Instance, a, input);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Pool2dAttributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var x = inputs[0].Shape;
            var (oh, ow) = a.Check(Name, inputs, Roles, x[2], x[3]);
            return new TensorSpec(new Shape(x[0], x[1], oh, ow), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Pool2dAttributes a, Tensor output)
        {
            var (xs, ys) = (inputs[0].ShapeArray, output.ShapeArray);
            var window = a.Window(xs[2], xs[3], ys[2], ys[3]);
            int planes = xs[0] * xs[1];
            using var x = new ContiguousInput(inputs[0]);
            if (output.DType == DType.Float32) PoolKernel.MaxForward(window, planes, x.Pointer<float>(), output.Pointer<float>());
            else PoolKernel.MaxForward(window, planes, x.Pointer<double>(), output.Pointer<double>());
        }

        public override Tensor?[] Backward(BackwardContext c, Pool2dAttributes a) => [MaxPool2dBackwardOp.Apply(c.Grad, c.Input(0), a)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Pool2dAttributes a)
        {
            var xs = inputs[0].ShapeArray;
            var x = inputs[0].ToArray<double>();
            var (oh, ow) = a.Check(Name, [TensorSpec.Of(inputs[0])], Roles, xs[2], xs[3]);
            int planes = xs[0] * xs[1], height = xs[2], width = xs[3];
            var y = new double[planes * oh * ow];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                int arg = ReferenceArgMax(a, x, p * height * width, oy, ox, height, width);
                y[(p * oh + oy) * ow + ox] = arg < 0 ? double.NegativeInfinity : x[arg];
            }
            return Tensor.From<double>(y, xs[0], xs[1], oh, ow);
        }

        /// <summary>For the references: the flat index of the first maximum of window (oy, ox) of the plane at <paramref name="plane"/>, or −1.</summary>
        internal static int ReferenceArgMax(Pool2dAttributes a, double[] x, int plane, int oy, int ox, int height, int width)
        {
            int arg = -1;
            foreach (var (iy, ix) in a.Taps(oy, ox, height, width))
            {
                int at = plane + iy * width + ix;
                if (arg < 0 || x[at] > x[arg]) arg = at;
            }
            return arg;
        }

        /// <summary>Windows every max-pool primitive's samples cover: floor and ceil modes, padding, dilation, stride 1.</summary>
        internal static IEnumerable<(string Description, int[] Input, Pool2dAttributes Attributes, bool CheckGradient)> Cases() =>
        [
            ("2x2 stride 2, odd width", [2, 3, 6, 7], Pool2dAttributes.Create(2, 2, 2, 2), true),
            ("3x3 stride 2 padding 1", [1, 2, 7, 7], Pool2dAttributes.Create(3, 3, 2, 2, 1, 1), true),
            ("3x3 stride 1 padding 1", [1, 2, 6, 9], Pool2dAttributes.Create(3, 3, 1, 1, 1, 1), true),
            ("2x3 stride (1, 2) dilation 2", [1, 2, 8, 9], Pool2dAttributes.Create(2, 3, 1, 2, 0, 1, 2, 2), true),
            ("ceil mode", [1, 2, 8, 8], Pool2dAttributes.Create(3, 3, 2, 2, ceilMode: true), true),
            ("ceil mode with padding", [1, 1, 6, 7], Pool2dAttributes.Create(3, 3, 2, 2, 1, 1, ceilMode: true), true),
            ("empty batch", [0, 2, 4, 4], Pool2dAttributes.Create(2, 2, 2, 2), true),
            ("larger, stride 1", [2, 3, 17, 19], Pool2dAttributes.Create(3, 3, 1, 1, 1, 1), false),
        ];

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 600;
            foreach (var (description, input, a, check) in Cases())
            {
                int s = ++seed;
                yield return new OpSample(description, () => [OpSample.Uniform(s, -2, 2, input)], a) { CheckGradient = check };
            }
        }

        /// <summary>Windows every pooling primitive must refuse.</summary>
        internal static IEnumerable<(string Description, Pool2dAttributes Attributes)> InvalidWindows() =>
        [
            ("padding over half the kernel", Pool2dAttributes.Create(2, 2, 2, 2, 2, 0)),
            ("kernel larger than the input", Pool2dAttributes.Create(7, 7, 1, 1)),
            ("zero stride", Pool2dAttributes.Create(2, 2, 0, 2)),
            ("zero kernel", Pool2dAttributes.Create(0, 2, 1, 1)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            var input = new TensorSpec(new Shape(1, 2, 5, 5), DType.Float32);
            foreach (var (description, a) in InvalidWindows()) yield return new(description, [input], a);
            yield return new("rank 3 input", [new TensorSpec(new Shape(2, 5, 5), DType.Float32)], Pool2dAttributes.Create(2, 2, 2, 2));
            yield return new("integer input", [new TensorSpec(new Shape(1, 2, 5, 5), DType.Int64)], Pool2dAttributes.Create(2, 2, 2, 2));
        }
    }
}

namespace Kiln.NN
{
    using Kiln.Ops;

    public static partial class F
    {
        /// <summary>
        /// 2-D max pooling of <paramref name="input"/> [N, C, H, W] (or [C, H, W]).
        /// <paramref name="stride"/> defaults to the kernel size; <paramref name="padding"/> (at most half
        /// the kernel) never wins; <paramref name="ceilMode"/> rounds the output size up.
        /// </summary>
        public static Tensor MaxPool2d(Tensor input, Size2d kernelSize, Size2d? stride = null, Padding padding = default,
            Size2d? dilation = null, bool ceilMode = false)
        {
            var a = PoolWindow("MaxPool2d", input, kernelSize, stride, padding, dilation ?? 1, ceilMode);
            return Unbatched(input, x => MaxPool2dOp.Apply(x, a));
        }

        internal static Pool2dAttributes PoolWindow(string op, Tensor input, Size2d kernel, Size2d? stride, Padding padding, Size2d dilation, bool ceilMode)
        {
            ArgumentNullException.ThrowIfNull(input);
            if (padding.IsSame)
                throw SpatialShapeError.Create(op, "padding 'same' is not supported for pooling; give the padding in rows and columns", [TensorSpec.Of(input)], "input");
            var s = stride ?? kernel;
            return new Pool2dAttributes(new IntList(kernel.Height, kernel.Width), new IntList(s.Height, s.Width),
                new IntList(padding.Height, padding.Width), new IntList(dilation.Height, dilation.Width), ceilMode);
        }

        /// <summary>Runs a batched spatial op on [C, H, W] input as a batch of one.</summary>
        internal static Tensor Unbatched(Tensor input, Func<Tensor, Tensor> batched)
        {
            ArgumentNullException.ThrowIfNull(input);
            if (input.Rank != 3) return batched(input);
            var s = input.ShapeArray;
            var y = batched(input.Reshape(1, s[0], s[1], s[2]));
            return y.Reshape(y.ShapeArray[1], y.ShapeArray[2], y.ShapeArray[3]);
        }
    }
}
