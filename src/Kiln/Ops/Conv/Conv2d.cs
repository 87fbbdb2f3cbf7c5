using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as in PyTorch) of input [N, C, H, W] with weight
    /// [O, C/groups, kH, kW], plus an optional bias [O], giving [N, O, OH, OW]. The kernels add the bias
    /// while each output tile is still in cache, so it costs no pass and no tensor of its own; its
    /// gradient is the output gradient summed over N, OH and OW.
    /// </summary>
    internal sealed class Conv2dOp : OpDef<Conv2dAttributes>
    {
        internal static readonly Conv2dOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        internal static readonly string[] Roles = ["input", "weight", "bias"];

        public override string Name => "Conv2d";

        /// <summary>Input and weight, or input, weight and bias.</summary>
        public override int Arity => Variadic;

        internal static Tensor Apply(Tensor input, Tensor weight, Conv2dAttributes a) => Dispatcher.Call(Instance, a, input, weight);

        internal static Tensor Apply(Tensor input, Tensor weight, Tensor bias, Conv2dAttributes a) => Dispatcher.Call(Instance, a, input, weight, bias);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Conv2dAttributes a)
        {
            if (inputs.Length is not (2 or 3))
                throw SpatialShapeError.Create(Name, $"takes an input, a weight and an optional bias, got {inputs.Length} tensors", inputs, Roles);
            SpatialShapeError.CheckInputs(Name, inputs[..2], Roles);
            var (x, w) = (inputs[0].Shape, inputs[1].Shape);
            var (oh, ow) = a.Check(Name, inputs, Roles, x[1], x[2], x[3], w[0], w[1], w[2], w[3]);
            if (inputs.Length == 3 && (inputs[2].Shape.Rank != 1 || inputs[2].Shape[0] != w[0] || inputs[2].DType != inputs[0].DType))
                throw SpatialShapeError.Create(Name, $"bias must be [{w[0]}] {inputs[0].DType.Name()} (one value per output channel)", inputs, Roles);
            return new TensorSpec(new Shape(x[0], w[0], oh, ow), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Conv2dAttributes a, Tensor output)
        {
            var (x, w, y) = (inputs[0].ShapeArray, inputs[1].ShapeArray, output.ShapeArray);
            var g = a.Geometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3]);
            using var input = new ContiguousInput(inputs[0]);
            using var weight = new ContiguousInput(inputs[1]);
            bool biased = inputs.Length == 3;
            using var bias = biased ? new ContiguousInput(inputs[2]) : default;
            if (output.DType == DType.Float32)
                ConvKernel.Forward(g, input.Pointer<float>(), weight.Pointer<float>(), biased ? bias.Pointer<float>() : null, output.Pointer<float>(), WorkerPool.Shared);
            else
                ConvKernel.Forward(g, input.Pointer<double>(), weight.Pointer<double>(), biased ? bias.Pointer<double>() : null, output.Pointer<double>(), WorkerPool.Shared);
        }

        public override Tensor?[] Backward(BackwardContext c, Conv2dAttributes a)
        {
            var (x, w) = (c.Input(0), c.Input(1));
            var grads = new Tensor?[c.Inputs.Length];
            if (c.NeedsGrad(0)) grads[0] = Conv2dInputGradOp.Apply(c.Grad, w, a, x.ShapeArray[2], x.ShapeArray[3]);
            if (c.NeedsGrad(1)) grads[1] = Conv2dWeightGradOp.Apply(x, c.Grad, a, w.ShapeArray[2], w.ShapeArray[3]);
            if (grads.Length == 3 && c.NeedsGrad(2)) grads[2] = c.Grad.Sum([0, 2, 3]);
            return grads;
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Conv2dAttributes a)
        {
            var (xs, ws) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            var (oh, ow) = a.OutputSize(xs[2], xs[3], ws[2], ws[3]);
            var x = inputs[0].ToArray<double>();
            var w = inputs[1].ToArray<double>();
            var y = new double[xs[0] * ws[0] * oh * ow];
            a.ReferenceTaps(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], (int)oh, (int)ow, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
            if (inputs.Length == 3)
            {
                var bias = inputs[2].ToArray<double>();
                int area = (int)(oh * ow);
                for (int i = 0; i < y.Length; i++) y[i] += bias[i / area % ws[0]];
            }
            return Tensor.From<double>(y, xs[0], ws[0], (int)oh, (int)ow);
        }

        /// <summary>The shapes every convolution primitive's samples cover: strides, uneven padding, dilation, groups, depthwise, 1x1, empty batch.</summary>
        internal static IEnumerable<(string Description, int[] Input, int[] Weight, Conv2dAttributes Attributes, bool CheckGradient)> Cases() =>
        [
            ("3x3", [2, 3, 5, 6], [4, 3, 3, 3], Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1), true),
            ("stride 2 padding 1", [1, 2, 7, 6], [3, 2, 3, 2], Conv2dAttributes.Create(2, 2, 1, 1, 1, 1, 1), true),
            ("stride (2, 3) dilation 2 padding (1, 2)", [1, 2, 7, 9], [2, 2, 2, 3], Conv2dAttributes.Create(2, 3, 1, 2, 2, 2, 1), true),
            ("groups 2", [2, 4, 5, 5], [6, 2, 3, 3], Conv2dAttributes.Create(2, 1, 1, 0, 1, 1, 2), true),
            ("depthwise multiplier 2", [1, 3, 6, 5], [6, 1, 3, 3], Conv2dAttributes.Create(1, 1, 1, 1, 1, 1, 3), true),
            ("depthwise stride 2 dilation 2", [2, 2, 7, 7], [2, 1, 2, 2], Conv2dAttributes.Create(2, 2, 1, 1, 2, 2, 2), true),
            ("1x1", [2, 5, 3, 4], [3, 5, 1, 1], Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1), true),
            ("1x1 groups 2", [1, 4, 3, 3], [6, 2, 1, 1], Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 2), true),
            ("uneven same padding", [1, 2, 5, 5], [2, 2, 4, 2], new(new IntList(1, 1), new IntList(1, 0, 2, 1), new IntList(1, 1), 1), true),
            ("height 1 (conv1d)", [2, 2, 1, 9], [3, 2, 1, 3], Conv2dAttributes.Create(1, 2, 0, 1, 1, 1, 1), true),
            ("empty batch", [0, 2, 4, 4], [3, 2, 3, 3], Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1), true),
            ("larger image", [2, 3, 17, 19], [5, 3, 3, 3], Conv2dAttributes.Create(1, 1, 1, 1, 1, 1, 1), false),
            ("larger depthwise", [1, 4, 17, 19], [4, 1, 3, 3], Conv2dAttributes.Create(1, 1, 1, 1, 1, 1, 4), false),
        ];

        public override IEnumerable<OpSample> Samples()
        {
            foreach (var sample in CaseSamples(300, (input, weight, _, a) => (input, weight, a))) yield return sample;
            // With a bias: the im2col, depthwise and 1x1 paths each add it in their own place.
            (string, int[], int[], Conv2dAttributes)[] biased =
            [
                ("3x3 with bias", [2, 3, 5, 6], [4, 3, 3, 3], Conv2dAttributes.Create(1, 1, 1, 1, 1, 1, 1)),
                ("groups 2 stride 2 with bias", [1, 4, 7, 6], [6, 2, 3, 3], Conv2dAttributes.Create(2, 2, 1, 0, 1, 1, 2)),
                ("depthwise with bias", [1, 3, 6, 5], [6, 1, 3, 3], Conv2dAttributes.Create(1, 1, 1, 1, 1, 1, 3)),
                ("1x1 with bias", [2, 5, 3, 4], [3, 5, 1, 1], Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1)),
            ];
            int seed = 400;
            foreach (var (description, input, weight, a) in biased)
            {
                int s = seed += 3;
                yield return new OpSample(description,
                    () => [OpSample.Uniform(s, -1, 1, input), OpSample.Uniform(s + 1, -1, 1, weight), OpSample.Uniform(s + 2, -1, 1, weight[0])], a);
            }
        }

        /// <summary>
        /// One sample per entry of <see cref="Cases"/> for a convolution primitive, seeded from
        /// <paramref name="seed"/>: <paramref name="operands"/> picks the op's two input shapes and its
        /// attributes from the case's input, weight and output shapes and its attributes.
        /// </summary>
        internal static IEnumerable<OpSample> CaseSamples(int seed,
            Func<int[], int[], int[], Conv2dAttributes, (int[] First, int[] Second, OpAttributes Attributes)> operands)
        {
            foreach (var (description, input, weight, conv, check) in Cases())
            {
                int s = seed += 2;
                var output = Instance.Infer([new TensorSpec(new Shape(input), DType.Float64), new TensorSpec(new Shape(weight), DType.Float64)], conv);
                var (first, second, attributes) = operands(input, weight, output.Shape.ToArray(), conv);
                yield return new OpSample(description, () => [OpSample.Uniform(s, -1, 1, first), OpSample.Uniform(s + 1, -1, 1, second)], attributes)
                    { CheckGradient = check };
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            var plain = Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1);
            static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
            return
            [
                new("channels differ", [F32(8, 3, 28, 28), F32(32, 1, 5, 5)], plain),
                new("groups do not divide output channels", [F32(1, 4, 8, 8), F32(6, 1, 3, 3)], Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 4)),
                new("kernel larger than input", [F32(1, 2, 4, 4), F32(3, 2, 5, 5)], plain),
                new("input of rank 3", [F32(2, 4, 4), F32(3, 2, 3, 3)], plain),
                new("weight of rank 2", [F32(1, 2, 4, 4), F32(3, 2)], plain),
                new("dtypes differ", [F32(1, 2, 4, 4), new TensorSpec(new Shape(3, 2, 3, 3), DType.Float64)], plain),
                new("integer input", [new TensorSpec(new Shape(1, 2, 4, 4), DType.Int32), new TensorSpec(new Shape(3, 2, 3, 3), DType.Int32)], plain),
                new("zero stride", [F32(1, 2, 4, 4), F32(3, 2, 3, 3)], Conv2dAttributes.Create(0, 1, 0, 0, 1, 1, 1)),
                new("negative padding", [F32(1, 2, 4, 4), F32(3, 2, 3, 3)], Conv2dAttributes.Create(1, 1, -1, 0, 1, 1, 1)),
                new("bias of the wrong length", [F32(1, 2, 4, 4), F32(3, 2, 3, 3), F32(4)], plain),
                new("bias of rank 2", [F32(1, 2, 4, 4), F32(3, 2, 3, 3), F32(3, 1)], plain),
                new("bias of another dtype", [F32(1, 2, 4, 4), F32(3, 2, 3, 3), new TensorSpec(new Shape(3), DType.Float64)], plain),
                new("four tensors", [F32(1, 2, 4, 4), F32(3, 2, 3, 3), F32(3), F32(3)], plain),
            ];
        }
    }
}

namespace Kiln.NN
{
    using Kiln.Ops;

    /// <summary>Functional forms of the layers and ops, as in PyTorch's <c>torch.nn.functional</c>.</summary>
    public static partial class F
    {
        /// <summary>
        /// 2-D convolution (cross-correlation, as in PyTorch) of <paramref name="input"/> [N, C, H, W]
        /// (or [C, H, W]) with <paramref name="weight"/> [O, C / groups, kH, kW], plus <paramref name="bias"/>
        /// [O] when given. <paramref name="stride"/> and <paramref name="dilation"/> default to 1;
        /// <paramref name="padding"/> is zero padding per side (an int, a (height, width) tuple, or
        /// <see cref="Padding.Same"/>). Returns [N, O, OH, OW].
        /// </summary>
        public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Size2d? stride = null,
            Padding padding = default, Size2d? dilation = null, int groups = 1)
        {
            ArgumentNullException.ThrowIfNull(input);
            ArgumentNullException.ThrowIfNull(weight);
            var s = stride ?? 1;
            var d = dilation ?? 1;
            bool unbatched = input.Rank == 3;
            var x = unbatched ? input.Reshape(1, input.ShapeArray[0], input.ShapeArray[1], input.ShapeArray[2]) : input;
            IntList pads;
            if (padding.IsSame && x.Rank == 4 && weight.Rank == 4)
                pads = Conv2dAttributes.SamePadding(x.ShapeArray[2], x.ShapeArray[3], weight.ShapeArray[2], weight.ShapeArray[3], s.Height, s.Width, d.Height, d.Width);
            else
                pads = new IntList(padding.Height, padding.Width, padding.Height, padding.Width);
            var attributes = new Conv2dAttributes(new IntList(s.Height, s.Width), pads, new IntList(d.Height, d.Width), groups);
            var y = bias is null ? Conv2dOp.Apply(x, weight, attributes) : Conv2dOp.Apply(x, weight, CheckedBias("Conv2d", bias, input, weight), attributes);
            return unbatched ? y.Reshape(y.ShapeArray[1], y.ShapeArray[2], y.ShapeArray[3]) : y;
        }

        /// <summary>The bias, after checking it holds one value per output channel, so the error speaks of the caller's shapes.</summary>
        internal static Tensor CheckedBias(string op, Tensor bias, Tensor input, Tensor weight)
        {
            int outChannels = weight.Rank > 0 ? weight.ShapeArray[0] : 0;
            if (bias.Rank != 1 || bias.ShapeArray[0] != outChannels || bias.DType != weight.DType)
                throw SpatialShapeError.Create(op, $"bias must be [{outChannels}] {weight.DType.Name()} (one value per output channel)",
                    [TensorSpec.Of(input), TensorSpec.Of(weight), TensorSpec.Of(bias)], "input", "weight", "bias");
            return bias;
        }
    }
}
