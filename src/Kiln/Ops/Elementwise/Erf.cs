using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>The error function erf(x) = 2/sqrt(pi) * integral from 0 to x of e^(-t^2) dt, elementwise.</summary>
    internal sealed class ErfOp : UnaryElementwiseOp
    {
        internal static readonly ErfOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Erf";

        internal override double Scalar(double x) => ReferenceErf(x);

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.UnaryVector(inputs[0], output, default(ErfOperator<float>), default(ErfOperator<double>));

        // d/dx erf(x) = 2/sqrt(pi) e^(-x^2).
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var x = c.Input(0);
            return [c.Grad * (x * x).Neg().Exp() * TwoOverSqrtPi];
        }

        private const double TwoOverSqrtPi = 1.1283791670955125739;

        /// <summary>
        /// erf for the conformance reference, written for clarity rather than speed: the Maclaurin
        /// series summed until it stops changing for |x| &lt; 2 (where its alternating terms lose at most
        /// a digit), else 1 - erfc(|x|) from Laplace's continued fraction evaluated to depth 200.
        /// </summary>
        internal static double ReferenceErf(double x)
        {
            if (double.IsNaN(x)) return x;
            if (Math.Abs(x) < 2)
            {
                double sum = 0, power = x; // power = (-1)^n x^(2n+1) / n!
                for (int n = 0; n < 200; n++)
                {
                    double term = power / (2 * n + 1);
                    if (sum + term == sum) break;
                    sum += term;
                    power *= -x * x / (n + 1);
                }
                return TwoOverSqrtPi * sum;
            }
            double a = Math.Abs(x), fraction = a;
            for (int k = 200; k >= 1; k--) fraction = a + k / 2.0 / fraction;
            double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / fraction;
            return Math.CopySign(1 - erfc, x);
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The error function of each element (integer tensors give float32).</summary>
        public Tensor Erf() => Dispatcher.Call(ErfOp.Instance, NoAttributes.Instance, AsFloatingPoint());
    }
}
