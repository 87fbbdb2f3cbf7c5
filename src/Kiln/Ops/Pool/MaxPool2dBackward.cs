using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// The input gradient of <see cref="MaxPool2dOp"/>: each output gradient goes to the position of
    /// its window's maximum in the input (recomputed from the input), summed where windows share one.
    /// Inputs: grad [N, C, OH, OW], input [N, C, H, W].
    /// </summary>
    internal sealed class MaxPool2dBackwardOp : OpDef<Pool2dAttributes>
    {
        internal static readonly MaxPool2dBackwardOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        private static readonly string[] Roles = ["grad", "input"];

        public override string Name => "MaxPool2dBackward";
        public override int Arity => 2;

        internal static Tensor Apply(Tensor grad, Tensor input, Pool2dAttributes a) => Dispatcher.Call(Instance, a, grad, input);

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Pool2dAttributes a)
        {
            SpatialShapeError.CheckInputs(Name, inputs, Roles);
            var (g, x) = (inputs[0].Shape, inputs[1].Shape);
            var (oh, ow) = a.Check(Name, inputs, Roles, x[2], x[3]);
            if (g[0] != x[0] || g[1] != x[1] || g[2] != oh || g[3] != ow)
                throw SpatialShapeError.Create(this, $"grad must be [{x[0]}, {x[1]}, {oh}, {ow}], the pooled size of the input", inputs, Roles);
            return inputs[1];
        }

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Pool2dAttributes a, Tensor output)
        {
            var (gs, xs) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            var window = a.Window(xs[2], xs[3], gs[2], gs[3]);
            int planes = xs[0] * xs[1];
            using var g = new ContiguousInput(inputs[0]);
            using var x = new ContiguousInput(inputs[1]);
            if (output.DType == DType.Float32) PoolKernel.MaxBackward(window, planes, g.Pointer<float>(), x.Pointer<float>(), output.Pointer<float>());
            else PoolKernel.MaxBackward(window, planes, g.Pointer<double>(), x.Pointer<double>(), output.Pointer<double>());
        }

        // Linear in grad, whose adjoint reads values at the same maxima; piecewise constant in the input
        // (the maxima only move at ties), so the input gets no gradient.
        public override Tensor?[] Backward(BackwardContext c, Pool2dAttributes a)
            => [c.NeedsGrad(0) ? MaxPool2dGatherOp.Apply(c.Grad, c.Input(1), a) : null, null];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Pool2dAttributes a)
        {
            var (gs, xs) = (inputs[0].ShapeArray, inputs[1].ShapeArray);
            var g = inputs[0].ToArray<double>();
            var x = inputs[1].ToArray<double>();
            int planes = xs[0] * xs[1], height = xs[2], width = xs[3], oh = gs[2], ow = gs[3];
            var dx = new double[x.Length];
            for (int p = 0; p < planes; p++)
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                int arg = MaxPool2dOp.ReferenceArgMax(a, x, p * height * width, oy, ox, height, width);
                if (arg >= 0) dx[arg] += g[(p * oh + oy) * ow + ox];
            }
            return Tensor.From<double>(dx, xs);
        }

        public override IEnumerable<OpSample> Samples()
        {
            int seed = 700;
            foreach (var (description, input, a, check) in MaxPool2dOp.Cases())
            {
                int s = seed += 2;
                var grad = MaxPool2dOp.Instance.Infer([new TensorSpec(new Shape(input), DType.Float64)], a).Shape.ToArray();
                yield return new OpSample(description, () => [OpSample.Uniform(s, -1, 1, grad), OpSample.Uniform(s + 1, -2, 2, input)], a)
                    { CheckGradient = check };
            }
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples()
        {
            static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
            var input = F32(1, 2, 5, 5);
            foreach (var (description, a) in MaxPool2dOp.InvalidWindows()) yield return new(description, [F32(1, 2, 2, 2), input], a);
            yield return new("grad of the wrong size", [F32(1, 2, 3, 3), input], Pool2dAttributes.Create(2, 2, 2, 2));
        }
    }
}
