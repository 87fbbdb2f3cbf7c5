using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// 2-D convolution (cross-correlation, as in PyTorch) of input [N, C, H, W] with weight
    /// [O, C/groups, kH, kW], giving [N, O, OH, OW]. The bias is added by <c>F.Conv2d</c> as a broadcast
    /// add, so its gradient is the output gradient summed over N, OH and OW.
    /// </summary>
    internal sealed class Conv2dOp : OpDef<Conv2dAttributes>
    {
        internal static readonly Conv2dOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        internal static readonly string[] Roles = ["input", "weight"];

        public override string Name => "Conv2d";
        public override int Arity => 2;

        internal static Tensor Apply(Tensor input, Tensor weight, Conv2dAttributes a) => Dispatcher.Call(Instance, a, input, weight);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Conv2dAttributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var (x, w) = (inputs[0].Shape, inputs[1].Shape);
            var (oh, ow) = a.Check(Name, inputs, Roles, x[1], x[2], x[3], w[0], w[1], w[2], w[3]);
            return new TensorSpec(new Shape(x[0], w[0], oh, ow), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Conv2dAttributes a, Tensor output)
        {
            var (x, w, y) = (inputs[0].ShapeArray, inputs[1].ShapeArray, output.ShapeArray);
            var g = a.Geometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3]);
            Conv2dAttributes.Run(inputs[0], inputs[1], output, g, ConvKernel.Forward, ConvKernel.Forward);
        }

        public override Tensor?[] Backward(BackwardContext c, Conv2dAttributes a)
        {
            var (x, w) = (c.Input(0), c.Input(1));
            return
            [
                c.NeedsGrad(0) ? Conv2dInputGradOp.Apply(c.Grad, w, a, x.ShapeArray[2], x.ShapeArray[3]) : null,
                c.NeedsGrad(1) ? Conv2dWeightGradOp.Apply(x, c.Grad, a, w.ShapeArray[2], w.ShapeArray[3]) : null,
            ];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Conv2dAttributes a)
        {
            var (xs, ws) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            var (oh, ow) = a.OutputSize(xs[2], xs[3], ws[2], ws[3]);
            var x = inputs[0].ToArray<double>();
            var w = inputs[1].ToArray<double>();
            var y = new double[xs[0] * ws[0] * oh * ow];
            a.ReferenceTaps(xs[0], xs[1], xs[2], xs[3], ws[0], ws[2], ws[3], (int)oh, (int)ow, (xi, wi, yi) => y[yi] += x[xi] * w[wi]);
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

        public override IEnumerable<OpSample> Samples() => CaseSamples(300, (input, weight, _, a) => (input, weight, a));

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
            var y = Conv2dOp.Apply(x, weight, attributes);
            if (bias is not null) y = AddChannelBias("Conv2d", y, bias, input, weight);
            return unbatched ? y.Reshape(y.ShapeArray[1], y.ShapeArray[2], y.ShapeArray[3]) : y;
        }

        /// <summary>y + bias broadcast over dimension 1 (one value per output channel), after checking the bias.</summary>
        internal static Tensor AddChannelBias(string op, Tensor y, Tensor bias, Tensor input, Tensor weight)
        {
            int outChannels = y.ShapeArray[1];
            if (bias.Rank != 1 || bias.ShapeArray[0] != outChannels || bias.DType != y.DType)
                throw SpatialShapeError.Create(op, $"bias must be [{outChannels}] {y.DType.Name()} (one value per output channel)",
                    [TensorSpec.Of(input), TensorSpec.Of(weight), TensorSpec.Of(bias)], "input", "weight", "bias");
            var shape = new int[y.Rank];
            shape.AsSpan().Fill(1);
            shape[1] = outChannels;
            return y + bias.Reshape(shape);
        }
    }
}
