using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>x where x &gt; 0, else negativeSlope * x.</summary>
    internal sealed class LeakyReluOp : UnaryElementwiseOp<LeakyReluOp.Attributes>
    {
        internal sealed record Attributes(double NegativeSlope) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Float64(NegativeSlope);

            internal static Attributes Read(AttributeReader reader) => new(reader.Float64("negative_slope"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly LeakyReluOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "LeakyRelu";

        protected override IReadOnlyList<Attributes> SampleAttributes { get; } = [new(0.01), new(0.2)];

        internal override double Scalar(double x, Attributes a) => x > 0 ? x : a.NegativeSlope * x;

        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
            => ElementwiseDispatch.UnaryVector(inputs[0], output,
                new LeakyReluOperator<float>((float)a.NegativeSlope), new LeakyReluOperator<double>(a.NegativeSlope));

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
            => [Tensor.Where(c.Input(0).Gt(0), c.Grad, c.Grad * a.NegativeSlope)];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Each element where positive, else <paramref name="negativeSlope"/> times it.</summary>
        public Tensor LeakyRelu(double negativeSlope = 0.01)
            => Dispatcher.Call(LeakyReluOp.Instance, new LeakyReluOp.Attributes(negativeSlope), this);
    }
}
