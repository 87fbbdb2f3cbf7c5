using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Gelu, x * Phi(x), exact or in its tanh approximation (the attribute).</summary>
    internal sealed class GeluOp : UnaryElementwiseOp<GeluOp.Attributes>
    {
        internal sealed record Attributes(GeluApproximation Approximate) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Choice((int)Approximate);

            internal static Attributes Read(AttributeReader reader) => new((GeluApproximation)reader.Choice("approximate", 2));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly GeluOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Gelu";

        protected override IReadOnlyList<Attributes> SampleAttributes { get; } =
            [new(GeluApproximation.None), new(GeluApproximation.Tanh)];

        private const double InvSqrt2 = 0.70710678118654752440;
        private const double InvSqrt2Pi = 0.39894228040143267794;
        private const double SqrtTwoOverPi = 0.79788456080286535588;
        private const double Cubic = 0.044715;

        internal override double Scalar(double x, Attributes a) => a.Approximate switch
        {
            GeluApproximation.Tanh => 0.5 * x * (1 + Math.Tanh(SqrtTwoOverPi * (x + Cubic * x * x * x))),
            _ => 0.5 * x * (1 + ErfOp.ReferenceErf(x * InvSqrt2)),
        };

        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            if (a.Approximate == GeluApproximation.Tanh)
                ElementwiseDispatch.UnaryVector(inputs[0], output, default(GeluTanhOperator<float>), default(GeluTanhOperator<double>));
            else
                ElementwiseDispatch.UnaryVector(inputs[0], output, default(GeluOperator<float>), default(GeluOperator<double>));
        }

        // Exact: d/dx x Phi(x) = Phi(x) + x phi(x). Tanh form: with t = tanh(u), u = k (x + c x^3),
        // d/dx 0.5 x (1 + t) = 0.5 (1 + t) + 0.5 x (1 - t^2) k (1 + 3 c x^2).
        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var x = c.Input(0);
            if (a.Approximate == GeluApproximation.Tanh)
            {
                var t = ((x + x * x * x * Cubic) * SqrtTwoOverPi).Tanh();
                var slope = (t + 1) * 0.5 + x * (1 - t * t) * (x * x * (3 * Cubic) + 1) * (0.5 * SqrtTwoOverPi);
                return [c.Grad * slope];
            }
            var cdf = ((x * InvSqrt2).Erf() + 1) * 0.5;
            var pdf = (x * x * -0.5).Exp() * InvSqrt2Pi;
            return [c.Grad * (cdf + x * pdf)];
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// The Gaussian error linear unit x * Phi(x) of each element; <paramref name="approximate"/>
        /// picks the exact (erf) form or the tanh approximation, as PyTorch's <c>gelu</c>.
        /// </summary>
        public Tensor Gelu(GeluApproximation approximate = GeluApproximation.None)
            => Dispatcher.Call(GeluOp.Instance, new GeluOp.Attributes(approximate), this);
    }
}
