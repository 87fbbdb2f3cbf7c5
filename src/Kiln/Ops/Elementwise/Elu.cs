using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>x where x &gt; 0, else alpha * (e^x - 1).</summary>
    internal sealed class EluOp : UnaryElementwiseOp<EluOp.Attributes>
    {
        internal sealed record Attributes(double Alpha) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Float64(Alpha);

            internal static Attributes Read(AttributeReader reader) => new(reader.Float64("alpha"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly EluOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Elu";

        protected override IReadOnlyList<Attributes> SampleAttributes { get; } = [new(1.0), new(0.5)];

        internal override double Scalar(double x, Attributes a) => x > 0 ? x : a.Alpha * ReferenceExpM1(x);

        /// <summary>e^x - 1 for the reference: its Taylor series summed to convergence where exp(x) - 1 would cancel.</summary>
        internal static double ReferenceExpM1(double x)
        {
            if (!(Math.Abs(x) < 1)) return Math.Exp(x) - 1;
            double sum = 0, term = x;
            for (int k = 2; sum + term != sum; k++)
            {
                sum += term;
                term *= x / k;
            }
            return sum;
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
            => ElementwiseDispatch.UnaryVector(inputs[0], output, new EluOperator<float>((float)a.Alpha), new EluOperator<double>(a.Alpha));

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var x = c.Input(0);
            return [Tensor.Where(x.Gt(0), c.Grad, c.Grad * x.Exp() * a.Alpha)];
        }
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>The exponential linear unit: each element where positive, else <paramref name="alpha"/> * (e^x - 1).</summary>
        public Tensor Elu(double alpha = 1.0) => Dispatcher.Call(EluOp.Instance, new EluOp.Attributes(alpha), this);
    }
}
