using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// The input gradient of <see cref="Conv2dOp"/> (a transposed convolution): from grad [N, O, OH, OW]
    /// and weight [O, C/groups, kH, kW], the gradient [N, C, H, W] of the input, computed as col2im of
    /// Wᵀ·grad. H and W are attributes, since several input sizes give the same output size.
    /// </summary>
    internal sealed class Conv2dInputGradOp : OpDef<Conv2dInputGradOp.Attributes>
    {
        internal sealed record Attributes(Conv2dAttributes Conv, int Height, int Width) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                Conv.Write(writer);
                writer.Int32(Height);
                writer.Int32(Width);
            }

            internal static Attributes Read(AttributeReader reader) => new(Conv2dAttributes.Read(reader), reader.Int32("height", 0), reader.Int32("width", 0));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly Conv2dInputGradOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["grad", "weight"];

        public override string Name => "Conv2dInputGrad";
        public override int Arity => 2;

        internal static Tensor Apply(Tensor grad, Tensor weight, Conv2dAttributes conv, int height, int width)
            => Dispatcher.Call(Instance, new Attributes(conv, height, width), grad, weight);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var (g, w) = (inputs[0].Shape, inputs[1].Shape);
            if (a.Height < 0 || a.Width < 0)
                throw SpatialShapeError.Create(this, $"input size {a.Height}x{a.Width} is negative", inputs, Roles);
            int channels = w[1] * a.Conv.Groups;
            var (oh, ow) = a.Conv.Check(Name, inputs, Roles, channels, a.Height, a.Width, w[0], w[1], w[2], w[3]);
            if (g[1] != w[0] || g[2] != oh || g[3] != ow)
                throw SpatialShapeError.Create(this,
                    $"grad must be [{g[0]}, {w[0]}, {oh}, {ow}] for an input of {a.Height}x{a.Width} with {a.Conv}", inputs, Roles);
            return new TensorSpec(new Shape(g[0], channels, a.Height, a.Width), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var (gs, ws) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            var geometry = a.Conv.Geometry(gs[0], output.ShapeArray[1], a.Height, a.Width, ws[0], ws[2], ws[3], gs[2], gs[3]);
            Conv2dAttributes.Run(inputs[0], inputs[1], output, geometry, ConvKernel.InputGrad, ConvKernel.InputGrad);
        }

        // Linear in both inputs: it is the adjoint of Conv2d in the input, so its own gradients are a
        // convolution (for grad) and a weight gradient (for weight).
        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var (grad, weight) = (c.Input(0), c.Input(1));
            return
            [
                c.NeedsGrad(0) ? Conv2dOp.Apply(c.Grad, weight, a.Conv) : null,
                c.NeedsGrad(1) ? Conv2dWeightGradOp.Apply(c.Grad, grad, a.Conv, weight.ShapeArray[2], weight.ShapeArray[3]) : null,
            ];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var (gs, ws) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            int channels = ws[1] * a.Conv.Groups;
            var g = inputs[0].ToArray<double>();
            var w = inputs[1].ToArray<double>();
            var dx = new double[gs[0] * channels * a.Height * a.Width];
            a.Conv.ReferenceTaps(gs[0], channels, a.Height, a.Width, gs[1], ws[2], ws[3], gs[2], gs[3], (xi, wi, yi) => dx[xi] += g[yi] * w[wi]);
            return Tensor.From<double>(dx, gs[0], channels, a.Height, a.Width);
        }

        public override IEnumerable<OpSample> Samples()
            => Conv2dOp.CaseSamples(400, (input, weight, output, conv) => (output, weight, new Attributes(conv, input[2], input[3])));

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            var plain = Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1);
            static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
            return
            [
                new("grad size does not match the input size", [F32(2, 4, 3, 3), F32(4, 3, 3, 3)], new Attributes(plain, 6, 6)),
                new("grad channels differ from weight", [F32(2, 5, 4, 4), F32(4, 3, 3, 3)], new Attributes(plain, 6, 6)),
                new("weight of rank 3", [F32(2, 4, 4, 4), F32(4, 3, 3)], new Attributes(plain, 6, 6)),
            ];
        }
    }
}
