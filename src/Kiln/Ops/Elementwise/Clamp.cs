using System.Numerics;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// min(max(x, Min), Max) with either bound optional. As in PyTorch: when Min &gt; Max every element
    /// becomes Max, NaN stays NaN, and the gradient passes where Min &lt;= x &lt;= Max.
    /// </summary>
    internal sealed class ClampOp : UnaryElementwiseOp<ClampOp.Attributes>
    {
        internal sealed record Attributes(double? Min, double? Max) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                writer.OptionalFloat64(Min);
                writer.OptionalFloat64(Max);
            }

            internal static Attributes Read(AttributeReader reader) => new(reader.OptionalFloat64("min"), reader.OptionalFloat64("max"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly ClampOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Clamp";
        protected override bool AcceptsIntegers => true;

        protected override IReadOnlyList<Attributes> SampleAttributes { get; } =
            [new(-1, 1), new(-0.5, null), new(null, 0.7), new(1, -1)];

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            if (a.Min is null && a.Max is null) throw Error("at least one of min and max must be given", inputs);
            return base.Infer(inputs, a);
        }

        internal override double Scalar(double x, Attributes a)
        {
            if (a.Min is { } low) x = Math.Max(x, low);
            if (a.Max is { } high) x = Math.Min(x, high);
            return x;
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
            => ElementwiseDispatch.UnaryVector(inputs[0], output, Operator<float>(a), Operator<double>(a), Operator<int>(a), Operator<long>(a));

        // An absent bound is the type's extreme: an infinity for floats, MinValue/MaxValue for integers.
        private static ClampOperator<T> Operator<T>(Attributes a) where T : unmanaged, INumber<T>
            => new(T.CreateSaturating(a.Min ?? double.NegativeInfinity), T.CreateSaturating(a.Max ?? double.PositiveInfinity));

        public override Tensor?[] Backward(BackwardContext c, Attributes a)
        {
            var x = c.Input(0);
            Tensor? inside = null;
            if (a.Min is { } low) inside = x.Ge(low);
            if (a.Max is { } high) inside = inside is null ? x.Le(high) : inside.LogicalAnd(x.Le(high));
            return [Tensor.Where(inside!, c.Grad, 0.0)];
        }

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            .. base.InvalidSamples(),
            new("no bounds", [new TensorSpec(new Shape(2, 3), DType.Float32)], new Attributes(null, null)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Limits each element to [<paramref name="min"/>, <paramref name="max"/>] (either may be left
        /// out; when min &gt; max every element becomes max). An integer tensor with a fractional bound
        /// gives float32. The gradient passes where min &lt;= x &lt;= max.
        /// </summary>
        public Tensor Clamp(double? min = null, double? max = null)
        {
            bool fractional = (min is { } lo && !double.IsInteger(lo)) || (max is { } hi && !double.IsInteger(hi));
            return Dispatcher.Call(ClampOp.Instance, new ClampOp.Attributes(min, max), fractional ? AsFloatingPoint() : this);
        }

        /// <summary>Applies <see cref="Clamp(double?, double?)"/> in place.</summary>
        public Tensor ClampInPlace(double? min = null, double? max = null)
            => Dispatcher.CallInPlace(ClampOp.Instance, new ClampOp.Attributes(min, max), this, this);

        /// <summary>
        /// Limits each element to the matching elements of <paramref name="min"/> and <paramref name="max"/>
        /// (broadcast; either may be null). Below min the result is min, above max it is max, and the
        /// gradient goes to whichever was chosen (to this tensor at ties), as in PyTorch.
        /// </summary>
        public Tensor Clamp(Tensor? min, Tensor? max)
        {
            if (min is null && max is null) throw new ArgumentException("Clamp: at least one of min and max must be given");
            var y = this;
            if (min is not null) y = Where(y.Lt(min), min, y);
            if (max is not null) y = Where(y.Gt(max), max, y);
            return y;
        }
    }
}
