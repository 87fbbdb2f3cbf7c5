using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>x - max - log(sum(exp(x - max))) along one dimension, in one fused kernel (stable for large values).</summary>
    internal sealed class LogSoftmaxOp : OpDef<SoftmaxOp.Attributes>
    {
        internal static readonly LogSoftmaxOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "LogSoftmax";
        public override int Arity => 1;
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, SoftmaxOp.Attributes a)
        {
            a.Check(this, inputs);
            return inputs[0];
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, SoftmaxOp.Attributes a, Tensor output) => a.Run(inputs[0], output, log: true);

        // dx = g - exp(y) * sum(g) along the dimension, in one fused op.
        public override Tensor?[] Backward(BackwardContext c, SoftmaxOp.Attributes a) => [SoftmaxBackwardOp.Apply(c.Grad, c.Output, a.Dim, log: true)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, SoftmaxOp.Attributes a) => a.Reference(inputs[0], log: true);

        public override IEnumerable<OpSample> Samples() => SoftmaxOp.Attributes.Samples();

        public override IEnumerable<OpInvalidSample> InvalidSamples() => SoftmaxOp.Attributes.InvalidSamples();
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Log of the softmax along <paramref name="dim"/>, computed directly (stable for large values, no log of 0).</summary>
        public Tensor LogSoftmax(int dim) => Dispatcher.Call(LogSoftmaxOp.Instance, SoftmaxOp.Attributes.Create(dim, Rank), this);
    }
}
