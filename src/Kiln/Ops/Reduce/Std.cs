using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>Standard deviation over some dimensions: the square root of <see cref="VarOp"/>'s variance, in one kernel.</summary>
    internal sealed class StdOp : OpDef<VarianceAttributes>
    {
        internal static readonly StdOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Std";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Reduction;
        public override bool BackwardReadsOutput => true;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, VarianceAttributes a) => a.Infer(this, inputs);

        public override void Forward(ReadOnlySpan<Tensor> inputs, VarianceAttributes a, Tensor output) => VarOp.Compute(inputs[0], a, output, sqrt: true);

        /// <summary>
        /// d std / d x_i = (x_i - mean) / (divisor · std). Where std is 0 the gradient is 0 (PyTorch's
        /// choice for this otherwise undefined point), not NaN.
        /// </summary>
        public override Tensor?[] Backward(BackwardContext c, VarianceAttributes a)
        {
            var x = c.Input(0);
            var r = a.Reduce;
            var std = r.KeepDims(c.Output, x.Shape);
            Tensor inverse;
            using (Engine.NoGrad())
            {
                var nonZero = ReduceBackward.NotZero(std);
                inverse = (std + ReduceBackward.OneMinus(nonZero)).Reciprocal() * nonZero;
            }
            return [r.KeepDims(c.Grad, x.Shape) * inverse * VarOp.Deviation(x, r) * (1.0 / a.Divisor(x.Shape))];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, VarianceAttributes a) => a.Reference(this, inputs[0], sqrt: true);

        public override IEnumerable<OpSample> Samples() => VarianceAttributes.Samples();

        public override IEnumerable<OpInvalidSample> InvalidSamples() => VarianceAttributes.InvalidSamples();
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Standard deviation over <paramref name="dims"/> (null: all): the square root of
        /// <see cref="Var(int[], double, bool)"/> with the same <paramref name="correction"/>.
        /// </summary>
        public Tensor Std(int[]? dims = null, double correction = 1, bool keepDim = false)
            => Dispatcher.Call(StdOp.Instance, VarianceAttributes.Create(dims, Rank, correction, keepDim), this);

        /// <summary>Standard deviation along one dimension (negative counts from the end).</summary>
        public Tensor Std(int dim, double correction = 1, bool keepDim = false) => Std([dim], correction, keepDim);
    }
}
