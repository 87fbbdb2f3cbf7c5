using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// The input gradient of <see cref="AvgPool2dOp"/>: grad [N, C, OH, OW] spread evenly over each
    /// window, giving [N, C, H, W] (H and W are attributes). Average pooling is linear, so this is its
    /// adjoint and the gradient of this op is average pooling again.
    /// </summary>
    internal sealed class AvgPool2dBackwardOp : OpDef<AvgPool2dBackwardOp.Attributes>
    {
        internal sealed record Attributes(AvgPool2dOp.Attributes Pool, int Height, int Width) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                Pool.Write(writer);
                writer.Int32(Height);
                writer.Int32(Width);
            }

            internal static Attributes Read(AttributeReader reader) => new(AvgPool2dOp.Attributes.Read(reader), reader.Int32("height", 0), reader.Int32("width", 0));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly AvgPool2dBackwardOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["grad"];

        public override string Name => "AvgPool2dBackward";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;

        internal static Tensor Apply(Tensor grad, AvgPool2dOp.Attributes pool, int height, int width)
            => Dispatcher.Call(Instance, new Attributes(pool, height, width), grad);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var g = inputs[0].Shape;
            if (a.Height < 0 || a.Width < 0)
                throw SpatialShapeError.Create(this, $"input size {a.Height}x{a.Width} is negative", inputs, Roles);
            var (oh, ow) = AvgPool2dOp.Check(Name, inputs, Roles, a.Pool, a.Height, a.Width);
            if (g[2] != oh || g[3] != ow)
                throw SpatialShapeError.Create(this, $"grad must be {oh}x{ow}, the pooled size of a {a.Height}x{a.Width} input", inputs, Roles);
            return new TensorSpec(new Shape(g[0], g[1], a.Height, a.Width), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var gs = inputs[0].ShapeArray;
            var window = a.Pool.Window.Window(a.Height, a.Width, gs[2], gs[3]);
            int planes = gs[0] * gs[1];
            using var g = new ContiguousInput(inputs[0]);
            if (output.DType == DType.Float32) PoolKernel.AvgBackward(window, planes, a.Pool.CountIncludePad, g.Pointer<float>(), output.Pointer<float>());
            else PoolKernel.AvgBackward(window, planes, a.Pool.CountIncludePad, g.Pointer<double>(), output.Pointer<double>());
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [AvgPool2dOp.Apply(c.Grad, a.Pool)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var gs = inputs[0].ShapeArray;
            var g = inputs[0].ToArray<double>();
            int planes = gs[0] * gs[1], oh = gs[2], ow = gs[3], height = a.Height, width = a.Width;
            var dx = new double[planes * height * width];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                var taps = a.Pool.Window.Taps(oy, ox, height, width).ToList();
                int divisor = a.Pool.CountIncludePad ? AvgPool2dOp.ReferencePaddedCount(a.Pool.Window, oy, ox, height, width) : taps.Count;
                foreach (var (iy, ix) in taps) dx[(p * height + iy) * width + ix] += g[(p * oh + oy) * ow + ox] / divisor;
            }
            return Tensor.From<double>(dx, gs[0], gs[1], height, width);
        }

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 1000;
            foreach (var (description, input, pool, check) in AvgPool2dOp.Cases())
            {
                int s = ++seed;
                var grad = AvgPool2dOp.Instance.Infer([new TensorSpec(new Shape(input), DType.Float64)], pool).Shape.ToArray();
                yield return new OpSample(description, () => [OpSample.Uniform(s, -2, 2, grad)], new Attributes(pool, input[2], input[3]))
                    { CheckGradient = check };
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            var pool = new AvgPool2dOp.Attributes(Pool2dAttributes.Create(2, 2, 2, 2), true);
            return
            [
                new("grad of the wrong size", [new TensorSpec(new Shape(1, 2, 3, 3), DType.Float32)], new Attributes(pool, 8, 8)),
                new("kernel larger than the input", [new TensorSpec(new Shape(1, 2, 1, 1), DType.Float32)], new Attributes(pool, 1, 1)),
            ];
        }
    }
}
