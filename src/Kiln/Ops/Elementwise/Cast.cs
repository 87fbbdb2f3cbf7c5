using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>Converts to another dtype (floats to integers truncate toward zero; anything to bool is "not zero").</summary>
    internal sealed class CastOp : OpDef<CastOp.Attributes>, IPerElementOp
    {
        internal sealed record Attributes(DType To) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer) => writer.Choice((int)To);

            internal static Attributes Read(AttributeReader reader) => new(reader.DType("to"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;
        }

        internal static readonly CastOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Cast";
        public override int Arity => 1;
        public override FusionKind Fusion => FusionKind.Elementwise;
        public override bool BackwardReadsInputs => false;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes a) => inputs[0] with { DType = a.To };

        public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes a, Tensor output)
        {
            var x = inputs[0];
            var layout = StridedLayout.Create(output.ShapeArray, output.StridesArray, (x.ShapeArray, x.StridesArray));
            void* src = x.DataPointer, dst = output.DataPointer;
            switch (x.DType)
            {
                case DType.Float32: From<float>(layout, src, dst, a.To); break;
                case DType.Float64: From<double>(layout, src, dst, a.To); break;
                case DType.Int32: From<int>(layout, src, dst, a.To); break;
                case DType.Int64: From<long>(layout, src, dst, a.To); break;
                case DType.UInt8: From<byte>(layout, src, dst, a.To); break;
                case DType.Int8: From<sbyte>(layout, src, dst, a.To); break;
                case DType.Bool: From<byte>(layout, src, dst, a.To); break; // bools are stored as 0/1 bytes
            }
        }

        private static unsafe void From<TFrom>(StridedLayout layout, void* src, void* dst, DType to) where TFrom : unmanaged, INumber<TFrom>
        {
            var s = (TFrom*)src;
            switch (to)
            {
                case DType.Float32: ElementwiseLoop.Unary<TFrom, float, Convert<TFrom, float>>(layout, s, (float*)dst); break;
                case DType.Float64: ElementwiseLoop.Unary<TFrom, double, Convert<TFrom, double>>(layout, s, (double*)dst); break;
                case DType.Int32: ElementwiseLoop.Unary<TFrom, int, Convert<TFrom, int>>(layout, s, (int*)dst); break;
                case DType.Int64: ElementwiseLoop.Unary<TFrom, long, Convert<TFrom, long>>(layout, s, (long*)dst); break;
                case DType.UInt8: ElementwiseLoop.Unary<TFrom, byte, Convert<TFrom, byte>>(layout, s, (byte*)dst); break;
                case DType.Int8: ElementwiseLoop.Unary<TFrom, sbyte, Convert<TFrom, sbyte>>(layout, s, (sbyte*)dst); break;
                case DType.Bool: ElementwiseLoop.Unary<TFrom, byte, NotZero<TFrom>>(layout, s, (byte*)dst); break;
            }
        }

        private readonly struct Convert<TFrom, TTo> : IUnarySpanOperator<TFrom, TTo>
            where TFrom : unmanaged, INumber<TFrom>
            where TTo : unmanaged, INumber<TTo>
        {
            public static void Invoke(ReadOnlySpan<TFrom> x, Span<TTo> d) => TensorPrimitives.ConvertTruncating(x, d);
        }

        private readonly struct NotZero<TFrom> : IUnarySpanOperator<TFrom, byte> where TFrom : unmanaged, INumber<TFrom>
        {
            public static void Invoke(ReadOnlySpan<TFrom> x, Span<byte> d)
            {
                for (int i = 0; i < x.Length; i++) d[i] = TFrom.IsZero(x[i]) ? (byte)0 : (byte)1;
            }
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes a) => [c.Grad.To(c.Input(0).DType)];

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes a)
        {
            var x = inputs[0].ToArray<double>();
            var y = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
                y[i] = a.To switch
                {
                    DType.Float32 => (float)x[i],
                    DType.Bool => x[i] != 0 ? 1 : 0,
                    DType.Float64 => x[i],
                    _ => Math.Truncate(x[i]),
                };
            return Tensor.From<double>(y, inputs[0].ShapeArray);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("to float32", () => [OpSample.Uniform(41, -5, 5, 4, 5)], new Attributes(DType.Float32)) { CheckGradient = false },
            new("float64 to float64", () => [OpSample.Uniform(45, -5, 5, 3, 2)], new Attributes(DType.Float64)),
            new("to int64", () => [OpSample.Uniform(42, -50, 50, 4, 5)], new Attributes(DType.Int64)) { CheckGradient = false },
            new("to int32", () => [OpSample.Uniform(43, -50, 50, 33)], new Attributes(DType.Int32)) { CheckGradient = false },
            new("to bool", () => [OpSample.Uniform(44, -1, 1, 9)], new Attributes(DType.Bool)) { CheckGradient = false },
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>This tensor converted to <paramref name="dtype"/> (itself when it already has that dtype).</summary>
        public Tensor To(DType dtype) => dtype == DType ? this : Dispatcher.Call(CastOp.Instance, new CastOp.Attributes(dtype), this);

        /// <summary>Promotes two operands to their common dtype (PyTorch's rules).</summary>
        internal static Tensor Promote(Tensor a, Tensor b, out Tensor bPromoted)
        {
            var dtype = DTypeInfo.Promote(a.DType, b.DType);
            bPromoted = b.To(dtype);
            return a.To(dtype);
        }
    }
}
