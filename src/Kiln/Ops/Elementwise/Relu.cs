using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>max(x, 0), elementwise (NaN stays NaN).</summary>
    internal sealed class ReluOp : UnaryElementwiseOp
    {
        internal static readonly ReluOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Relu";
        protected override bool AcceptsIntegers => true;
        public override bool BackwardReadsInputs => false;
        public override bool BackwardReadsOutput => true;

        internal override double Scalar(double x) => x > 0 ? x : double.IsNaN(x) ? x : 0;

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.UnaryVector(inputs[0], output,
                new ReluOperator<float>(), new ReluOperator<double>(), new ReluOperator<int>(), new ReluOperator<long>());

        // The output is positive exactly where the input is, so the mask comes from the saved output
        // (which also lets ReluInPlace overwrite its input). The gradient at 0 is 0, as in PyTorch.
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a) => [ReluBackwardOp.Apply(c.Grad, c.Output)];

    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>max(x, 0) for each element.</summary>
        public Tensor Relu() => Dispatcher.Call(ReluOp.Instance, NoAttributes.Instance, this);

        /// <summary>Applies <see cref="Relu"/> in place.</summary>
        public Tensor ReluInPlace() => Dispatcher.CallInPlace(ReluOp.Instance, NoAttributes.Instance, this, this);
    }
}
