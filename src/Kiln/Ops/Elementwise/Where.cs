using System.Runtime.CompilerServices;

namespace Kiln.Ops
{
    /// <summary>condition ? a : b, elementwise, with all three broadcast together.</summary>
    internal sealed class WhereOp : OpDef<NoAttributes>, IPerElementOp
    {
        internal static readonly WhereOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Where";
        public override int Arity => 3;
        public override FusionKind Fusion => FusionKind.Elementwise;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
        {
            var (c, x, y) = (inputs[0], inputs[1], inputs[2]);
            if (c.DType != DType.Bool)
                throw Error($"the condition must be a bool tensor, got {c.DType.Name()}", inputs);
            if (x.DType != y.DType)
                throw Error($"the two value dtypes differ: {x.DType.Name()} and {y.DType.Name()}", inputs);
            var xy = Kiln.Shape.Broadcast(x.Shape.AsSpan(), y.Shape.AsSpan());
            var shape = xy is null ? null : Kiln.Shape.Broadcast(c.Shape.AsSpan(), xy);
            if (shape is null)
                throw Error($"shapes {c.Shape}, {x.Shape} and {y.Shape} do not broadcast", inputs);
            return new TensorSpec(Kiln.Shape.Wrap(shape), x.DType);
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
            => ElementwiseDispatch.Where(inputs[0], inputs[1], inputs[2], output);

        // Each value input gets the gradient where it was chosen; the condition gets none.
        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var (condition, x, y) = (c.Input(0), c.Input(1), c.Input(2));
            return
            [
                null,
                c.NeedsGrad(1) ? Tensor.Where(condition, c.Grad, 0.0).SumTo(x.Shape) : null,
                c.NeedsGrad(2) ? Tensor.Where(condition, 0.0, c.Grad).SumTo(y.Shape) : null,
            ];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
        {
            var (c, x, y) = (inputs[0], inputs[1], inputs[2]);
            var shape = Kiln.Shape.Broadcast(c.ShapeArray, Kiln.Shape.Broadcast(x.ShapeArray, y.ShapeArray)!)!;
            var cs = BinaryElementwiseOp.BroadcastStrides(c.ShapeArray, shape);
            var xs = BinaryElementwiseOp.BroadcastStrides(x.ShapeArray, shape);
            var ys = BinaryElementwiseOp.BroadcastStrides(y.ShapeArray, shape);
            var cv = c.ToArray<bool>();
            var xv = x.To(DType.Float64).ToArray<double>();
            var yv = y.To(DType.Float64).ToArray<double>();
            var result = new double[Kiln.Shape.Wrap(shape).NumElements];
            for (int flat = 0; flat < result.Length; flat++)
            {
                int rem = flat, co = 0, xo = 0, yo = 0;
                for (int d = shape.Length - 1; d >= 0; d--)
                {
                    int i = rem % shape[d];
                    rem /= shape[d];
                    co += i * cs[d];
                    xo += i * xs[d];
                    yo += i * ys[d];
                }
                result[flat] = cv[co] ? xv[xo] : yv[yo];
            }
            return Tensor.From<double>(result, shape);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("same shape", () => [ElementwiseSamples.Mask(71, 5, 7), OpSample.Uniform(72, -3, 3, 5, 7), OpSample.Uniform(73, -3, 3, 5, 7)], NoAttributes.Instance),
            new("all broadcast", () => [ElementwiseSamples.Mask(74, 3, 1, 5), OpSample.Uniform(75, -3, 3, 4, 1), OpSample.Uniform(76, -3, 3, 5)], NoAttributes.Instance),
            new("scalar value", () => [ElementwiseSamples.Mask(77, 4, 6), OpSample.Uniform(78, -3, 3, 4, 6), OpSample.Uniform(79, -3, 3)], NoAttributes.Instance),
            new("scalar condition", () => [ElementwiseSamples.Mask(80), OpSample.Uniform(81, -3, 3, 2, 3), OpSample.Uniform(82, -3, 3, 2, 3)], NoAttributes.Instance),
            new("long rows", () => [ElementwiseSamples.Mask(83, 3, 259), OpSample.Uniform(84, -3, 3, 3, 259), OpSample.Uniform(85, -3, 3, 259)], NoAttributes.Instance) { CheckGradient = false },
            new("int64 values", () => [ElementwiseSamples.Mask(86, 6, 9), OpSample.Indices(87, 100, 6, 9), OpSample.Indices(88, 100, 9)], NoAttributes.Instance),
            new("bool values", () => [ElementwiseSamples.Mask(89, 40), ElementwiseSamples.Mask(90, 40), ElementwiseSamples.Mask(91, 40)], NoAttributes.Instance),
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("float condition", [new TensorSpec(new Shape(2), DType.Float32), new TensorSpec(new Shape(2), DType.Float32), new TensorSpec(new Shape(2), DType.Float32)], NoAttributes.Instance),
            new("value dtypes differ", [new TensorSpec(new Shape(2), DType.Bool), new TensorSpec(new Shape(2), DType.Float32), new TensorSpec(new Shape(2), DType.Float64)], NoAttributes.Instance),
            new("shapes that do not broadcast", [new TensorSpec(new Shape(2, 3), DType.Bool), new TensorSpec(new Shape(3), DType.Float32), new TensorSpec(new Shape(4, 1, 2), DType.Float32)], NoAttributes.Instance),
            new("condition does not broadcast", [new TensorSpec(new Shape(5), DType.Bool), new TensorSpec(new Shape(3), DType.Float32), new TensorSpec(new Shape(3), DType.Float32)], NoAttributes.Instance),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Elements of <paramref name="x"/> where <paramref name="condition"/> (a bool tensor) is true, else of
        /// <paramref name="y"/>; all three broadcast together and x and y are promoted to a common dtype.
        /// The gradient flows to x and y where each was chosen.
        /// </summary>
        public static Tensor Where(Tensor condition, Tensor x, Tensor y)
            => Dispatcher.Call(WhereOp.Instance, NoAttributes.Instance, condition, Promote(x, y, out var b), b);

        /// <summary><paramref name="x"/> where <paramref name="condition"/> is true, else <paramref name="y"/>.</summary>
        public static Tensor Where(Tensor condition, Tensor x, double y) => Where(condition, x, ScalarOperand(y, x.DType));

        /// <summary><paramref name="x"/> where <paramref name="condition"/> is true, else <paramref name="y"/>.</summary>
        public static Tensor Where(Tensor condition, double x, Tensor y) => Where(condition, ScalarOperand(x, y.DType), y);
    }
}
