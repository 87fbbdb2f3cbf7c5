using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// The input gradient of <see cref="AdaptiveAvgPool2dOp"/>: grad [N, C, OH, OW] spread evenly over
    /// each bin, giving [N, C, H, W] (H and W are attributes). Its own gradient is the adaptive pool.
    /// </summary>
    internal sealed class AdaptiveAvgPool2dBackwardOp : OpDef<AdaptiveAvgPool2dBackwardOp.Attributes>
    {
        internal sealed record Attributes(int Height, int Width) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                writer.Int32(Height);
                writer.Int32(Width);
            }

            internal static Attributes Read(AttributeReader reader) => new(reader.Int32("height", 0), reader.Int32("width", 0));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly AdaptiveAvgPool2dBackwardOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["grad"];

        public override string Name => "AdaptiveAvgPool2dBackward";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;

        internal static Tensor Apply(Tensor grad, int height, int width) => Dispatcher.Call(Instance, new Attributes(height, width), grad);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var g = inputs[0].Shape;
            AdaptiveAvgPool2dOp.Check(Name, inputs, Roles, g[2], g[3], a.Height, a.Width);
            return new TensorSpec(new Shape(g[0], g[1], a.Height, a.Width), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var gs = inputs[0].ShapeArray;
            using var g = new ContiguousInput(inputs[0]);
            if (output.DType == DType.Float32)
                PoolKernel.AdaptiveAvgBackward(gs[0] * gs[1], a.Height, a.Width, gs[2], gs[3], g.Pointer<float>(), output.Pointer<float>());
            else
                PoolKernel.AdaptiveAvgBackward(gs[0] * gs[1], a.Height, a.Width, gs[2], gs[3], g.Pointer<double>(), output.Pointer<double>());
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var g = c.Input(0).ShapeArray;
            return [AdaptiveAvgPool2dOp.Apply(c.Grad, new AdaptiveAvgPool2dOp.Attributes(g[2], g[3]))];
        }

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
                var (top, bottom) = AdaptiveAvgPool2dOp.ReferenceBin(oy, height, oh);
                var (left, right) = AdaptiveAvgPool2dOp.ReferenceBin(ox, width, ow);
                double share = g[(p * oh + oy) * ow + ox] / ((bottom - top) * (right - left));
                for (int iy = top; iy < bottom; iy++)
                for (int ix = left; ix < right; ix++) dx[(p * height + iy) * width + ix] += share;
            }
            return Tensor.From<double>(dx, gs[0], gs[1], height, width);
        }

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 1200;
            foreach (var (description, input, pool) in AdaptiveAvgPool2dOp.Cases())
            {
                int s = ++seed;
                int[] grad = [input[0], input[1], pool.OutHeight, pool.OutWidth];
                yield return new OpSample(description, () => [OpSample.Uniform(s, -2, 2, grad)], new Attributes(input[2], input[3]));
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("empty grad image", [new TensorSpec(new Shape(1, 2, 0, 3), DType.Float32)], new Attributes(4, 4)),
            new("zero input size", [new TensorSpec(new Shape(1, 2, 2, 3), DType.Float32)], new Attributes(0, 4)),
        ];
    }
}
