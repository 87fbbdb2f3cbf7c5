using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// ReLU's input gradient from its output: grad where output &gt; 0, else 0, in one pass (the
    /// composite grad · (output &gt; 0) took a comparison, a cast and a product: three passes and two
    /// full-size temporaries, 3-4× PyTorch's time on the CNN's activations). Inputs: grad, output.
    /// </summary>
    internal sealed class ReluBackwardOp : BinaryElementwiseOp
    {
        internal static readonly ReluBackwardOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "ReluBackward";
        protected override bool AcceptsIntegers => false;
        public override bool BackwardReadsInputs => true;

        internal static Tensor Apply(Tensor grad, Tensor output) => Dispatcher.Call(Instance, NoAttributes.Instance, grad, output);

        internal override double Scalar(double grad, double output) => output > 0 ? grad : 0;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Binary<ReluBackwardOperator<float>, ReluBackwardOperator<double>>(inputs[0], inputs[1], output);

        // Linear in grad with the same mask; piecewise constant in the output, so it gets no gradient.
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) =>
        [
            c.NeedsGrad(0) ? Apply(c.Grad, c.Input(1)).SumTo(c.Input(0).Shape) : null,
            null,
        ];
    }
}
