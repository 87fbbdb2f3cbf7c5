using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// The weight gradient of <see cref="Conv2dOp"/>: from input [N, C, H, W] and grad [N, O, OH, OW],
    /// the gradient [O, C/groups, kH, kW] of the weight, the sum over images of grad·unfold(input)ᵀ.
    /// kH and kW are attributes.
    /// </summary>
    internal sealed class Conv2dWeightGradOp : OpDef<Conv2dWeightGradOp.Attributes>
    {
        internal sealed record Attributes(Conv2dAttributes Conv, int KernelHeight, int KernelWidth) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                Conv.Write(writer);
                writer.Int32(KernelHeight);
                writer.Int32(KernelWidth);
            }

            internal static Attributes Read(AttributeReader reader) => new(Conv2dAttributes.Read(reader), reader.Int32("kernel_height", 1), reader.Int32("kernel_width", 1));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly Conv2dWeightGradOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["input", "grad"];

        public override string Name => "Conv2dWeightGrad";
        public override int Arity => 2;

        internal static Tensor Apply(Tensor input, Tensor grad, Conv2dAttributes conv, int kernelHeight, int kernelWidth)
            => Dispatcher.Call(Instance, new Attributes(conv, kernelHeight, kernelWidth), input, grad);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var (x, g) = (inputs[0].Shape, inputs[1].Shape);
            int groups = Math.Max(a.Conv.Groups, 1);
            if (x[1] % groups != 0)
                throw SpatialShapeError.Create(this, $"input has {x[1]} channels, which groups={groups} does not divide", inputs, Roles);
            var (oh, ow) = a.Conv.Check(Name, inputs, Roles, x[1], x[2], x[3], g[1], x[1] / groups, a.KernelHeight, a.KernelWidth);
            if (g[0] != x[0] || g[2] != oh || g[3] != ow)
                throw SpatialShapeError.Create(this,
                    $"grad must be [{x[0]}, {g[1]}, {oh}, {ow}] for a {a.KernelHeight}x{a.KernelWidth} kernel with {a.Conv}", inputs, Roles);
            return new TensorSpec(new Shape(g[1], x[1] / groups, a.KernelHeight, a.KernelWidth), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var (xs, gs) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            var geometry = a.Conv.Geometry(xs[0], xs[1], xs[2], xs[3], gs[1], a.KernelHeight, a.KernelWidth, gs[2], gs[3]);
            Conv2dAttributes.Run(inputs[0], inputs[1], output, geometry, ConvKernel.WeightGrad, ConvKernel.WeightGrad);
        }

        // Bilinear in input and grad: differentiating <u, dW(x, g)> = <g, conv(x, u)> gives a transposed
        // convolution for the input and a convolution for the grad.
        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var (input, grad) = (c.Input(0), c.Input(1));
            return
            [
                c.NeedsGrad(0) ? Conv2dInputGradOp.Apply(grad, c.Grad, a.Conv, input.ShapeArray[2], input.ShapeArray[3]) : null,
                c.NeedsGrad(1) ? Conv2dOp.Apply(input, c.Grad, a.Conv) : null,
            ];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var (xs, gs) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            int groupChannels = xs[1] / a.Conv.Groups;
            var x = inputs[0].ToArray<double>();
            var g = inputs[1].ToArray<double>();
            var dw = new double[gs[1] * groupChannels * a.KernelHeight * a.KernelWidth];
            a.Conv.ReferenceTaps(xs[0], xs[1], xs[2], xs[3], gs[1], a.KernelHeight, a.KernelWidth, gs[2], gs[3], (xi, wi, yi) => dw[wi] += g[yi] * x[xi]);
            return Tensor.From<double>(dw, gs[1], groupChannels, a.KernelHeight, a.KernelWidth);
        }

        public override IEnumerable<OpSample> Samples()
            => Conv2dOp.CaseSamples(500, (input, weight, output, conv) => (input, output, new Attributes(conv, weight[2], weight[3])));

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            var plain = Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1);
            static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
            return
            [
                new("grad size does not match", [F32(2, 3, 6, 6), F32(2, 4, 3, 3)], new Attributes(plain, 3, 3)),
                new("batch sizes differ", [F32(2, 3, 6, 6), F32(3, 4, 4, 4)], new Attributes(plain, 3, 3)),
                new("groups do not divide input channels", [F32(2, 3, 6, 6), F32(2, 4, 4, 4)], new Attributes(Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 2), 3, 3)),
            ];
        }
    }
}
