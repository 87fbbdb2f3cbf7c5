using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// Reads values [N, C, H, W] at the positions of the window maxima of input [N, C, H, W], giving
    /// [N, C, OH, OW]: the adjoint of <see cref="MaxPool2dBackwardOp"/>, which second-order gradients
    /// of max pooling need. Gathering the input itself gives <see cref="MaxPool2dOp"/>'s output.
    /// </summary>
    internal sealed class MaxPool2dGatherOp : OpDef<Pool2dAttributes>
    {
        internal static readonly MaxPool2dGatherOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["values", "input"];

        public override string Name => "MaxPool2dGather";
        public override int Arity => 2;

        internal static Tensor Apply(Tensor values, Tensor input, Pool2dAttributes a) => Dispatcher.Call(Instance, a, values, input);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Pool2dAttributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var (v, x) = (inputs[0].Shape, inputs[1].Shape);
            if (v != x) throw SpatialShapeError.Create(this, "values and input must have the same shape", inputs, Roles);
            var (oh, ow) = a.Check(Name, inputs, Roles, x[2], x[3]);
            return new TensorSpec(new Shape(x[0], x[1], oh, ow), inputs[0].DType);
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Pool2dAttributes a, Tensor output)
        {
            var (xs, ys) = (inputs[1].ShapeArray, output.ShapeArray);
            var window = a.Window(xs[2], xs[3], ys[2], ys[3]);
            int planes = xs[0] * xs[1];
            using var v = new ContiguousInput(inputs[0]);
            using var x = new ContiguousInput(inputs[1]);
            if (output.DType == DType.Float32) PoolKernel.MaxGather(window, planes, v.Pointer<float>(), x.Pointer<float>(), output.Pointer<float>());
            else PoolKernel.MaxGather(window, planes, v.Pointer<double>(), x.Pointer<double>(), output.Pointer<double>());
        }

        public override Tensor?[] Backward(BackwardContext c, Pool2dAttributes a)
            => [c.NeedsGrad(0) ? MaxPool2dBackwardOp.Apply(c.Grad, c.Input(1), a) : null, null];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Pool2dAttributes a)
        {
            var xs = inputs[1].ShapeArray;
            var v = inputs[0].ToArray<double>();
            var x = inputs[1].ToArray<double>();
            var (oh, ow) = a.Check(Name, [TensorSpec.Of(inputs[1])], Roles, xs[2], xs[3]);
            int planes = xs[0] * xs[1], height = xs[2], width = xs[3];
            var y = new double[planes * oh * ow];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                int arg = MaxPool2dOp.ReferenceArgMax(a, x, p * height * width, oy, ox, height, width);
                y[(p * oh + oy) * ow + ox] = arg < 0 ? 0 : v[arg];
            }
            return Tensor.From<double>(y, xs[0], xs[1], oh, ow);
        }

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 800;
            foreach (var (description, input, a, check) in MaxPool2dOp.Cases())
            {
                int s = seed += 2;
                yield return new OpSample(description, () => [OpSample.Uniform(s, -1, 1, input), OpSample.Uniform(s + 1, -2, 2, input)], a)
                    { CheckGradient = check };
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
            var input = F32(1, 2, 5, 5);
            foreach (var (description, a) in MaxPool2dOp.InvalidWindows()) yield return new(description, [input, input], a);
            yield return new("values of another shape", [F32(1, 2, 4, 5), input], Pool2dAttributes.Create(2, 2, 2, 2));
        }
    }
}
