using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>
    /// A tensor of the input's shape and dtype with every element Value: the op behind FillInPlace /
    /// ZeroInPlace. The result does not depend on the input's values, so no gradient flows back.
    /// </summary>
    internal sealed class FillOp : OpDef<FillOp.Attributes>
    {
        internal sealed record Attributes(double Value) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Float64(Value);

            internal static Attributes Read(AttributeReader reader) => new(reader.Float64("value"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly FillOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Fill";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Elementwise;
        public override bool BackwardReadsInputs => false;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a)
        {
            var (min, max) = inputs[0].DType switch
            {
                DType.Int32 => (int.MinValue, int.MaxValue),
                DType.Int64 => (long.MinValue, (double)long.MaxValue),
                DType.UInt8 => (byte.MinValue, byte.MaxValue),
                DType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
                _ => (double.NegativeInfinity, double.PositiveInfinity),
            };
            if (inputs[0].DType.IsInteger() && !(a.Value >= min && a.Value <= max))
                throw Error($"value {a.Value} cannot be converted to {inputs[0].DType.Name()} without overflow", inputs);
            return inputs[0];
        }

        // The value as a 0-d tensor of the output's dtype, seen with all strides 0, copied over the output.
        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            using var value = Tensor.Scalar(a.Value, output.DType);
            using var spread = value.AsStrided(output.ShapeArray, new int[output.Rank], 0);
            Dispatcher.CopyInto(spread, output);
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [null];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
            => Tensor.Full(inputs[0].ShapeArray, a.Value, DType.Float64);

        public override IEnumerable<OpSample> Samples() =>
        [
            new("matrix", () => [OpSample.Uniform(101, -1, 1, 3, 4)], new Attributes(2.5)),
            new("scalar", () => [OpSample.Uniform(102, -1, 1)], new Attributes(-1)),
            new("empty", () => [OpSample.Uniform(103, -1, 1, 0, 3)], new Attributes(0)),
            new("int64", () => [OpSample.Indices(104, 10, 2, 5)], new Attributes(7)),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("300 into uint8", [new TensorSpec(new Shape(2, 2), DType.UInt8)], new Attributes(300)),
            new("NaN into int32", [new TensorSpec(new Shape(3), DType.Int32)], new Attributes(double.NaN)),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>Sets every element to <paramref name="value"/> (converted to this tensor's dtype), in place.</summary>
        public Tensor FillInPlace(double value) => Dispatcher.CallInPlace(FillOp.Instance, new FillOp.Attributes(value), this, this);

        /// <summary>Sets every element to zero, in place.</summary>
        public Tensor ZeroInPlace() => FillInPlace(0);
    }
}
