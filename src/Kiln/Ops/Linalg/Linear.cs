using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// y = x·Wᵀ + b over the last dimension of x (weight [out, in], bias [out]): one GEMM over all
    /// leading dimensions, reading W transposed in place, with the bias written into the output rows
    /// first and accumulated onto (beta = 1), so it costs no extra pass. Without a bias,
    /// <see cref="NN.F.Linear"/> is the MatMul x·Wᵀ.
    /// </summary>
    internal sealed class LinearOp : OpDef<NoAttributes>
    {
        internal static readonly LinearOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "Linear";
        public override int Arity => 3;

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
        {
            var outputShape = CheckInputAndWeight(inputs);
            var (weight, bias) = (inputs[1], inputs[2]);
            if (bias.DType != weight.DType)
                throw Error($"bias dtype {bias.DType.Name()} differs from weight dtype {weight.DType.Name()}", inputs);
            if (bias.Shape.Rank != 1 || bias.Shape[0] != weight.Shape[0])
                throw Error($"bias has shape {bias.Shape}, expected [{weight.Shape[0]}]", inputs);
            return new TensorSpec(outputShape, weight.DType);
        }

        /// <summary>The checks shared with the bias-free form: returns the output shape, or throws naming Linear.</summary>
        internal Shape CheckInputAndWeight(ReadOnlySpan<TensorSpec> inputs)
        {
            var (x, weight) = (inputs[0], inputs[1]);
            if (x.DType != weight.DType)
                throw Error($"input dtype {x.DType.Name()} differs from weight dtype {weight.DType.Name()}", inputs);
            if (!x.DType.IsFloatingPoint())
                throw Error($"expects floating-point tensors, got {x.DType.Name()}", inputs);
            if (weight.Shape.Rank != 2)
                throw Error($"weight must be [out_features, in_features], got {weight.Shape}", inputs);
            if (x.Shape.Rank == 0)
                throw Error("input must have a feature dimension, got a scalar", inputs);
            if (x.Shape[-1] != weight.Shape[1])
                throw Error($"input has {x.Shape[-1]} features, expected {weight.Shape[1]} (weight {weight.Shape})", inputs);
            var dims = x.Shape.ToArray();
            dims[^1] = weight.Shape[0];
            return Kiln.Shape.Wrap(dims);
        }

        public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
        {
            if (output.NumElements == 0) return;
            if (!output.IsContiguous)
            {
                using var dense = Tensor.Empty(output.ShapeArray, output.DType);
                Forward(inputs, a, dense);
                Dispatcher.CopyInto(dense, output);
                return;
            }
            if (output.DType == DType.Float32) Run<float>(inputs[0], inputs[1], inputs[2], output);
            else Run<double>(inputs[0], inputs[1], inputs[2], output);
        }

        private static unsafe void Run<T>(Tensor x, Tensor weight, Tensor bias, Tensor output) where T : unmanaged
        {
            int features = weight.ShapeArray[1], outFeatures = weight.ShapeArray[0];
            int rows = LeadingRows(x);
            Tensor? xCopy = null, wCopy = null;
            try
            {
                if (!InputRows(x, rows, features, out var xTrans, out var ldx))
                {
                    xCopy = MatrixLayout.DenseCopy(x);
                    InputRows(xCopy, rows, features, out xTrans, out ldx);
                }
                // GEMM's B is Wᵀ (in × out): its rows step along W's columns.
                if (!MatrixLayout.TryGemmOperand(features, outFeatures, weight.StridesArray[1], weight.StridesArray[0], out var wTrans, out var ldw))
                {
                    wCopy = MatrixLayout.DenseCopy(weight);
                    MatrixLayout.TryGemmOperand(features, outFeatures, 1, features, out wTrans, out ldw);
                }
                T* c = output.Pointer<T>();
                T* b = bias.Pointer<T>();
                int biasStride = bias.StridesArray[0];
                for (int j = 0; j < outFeatures; j++) c[j] = b[(nint)j * biasStride];
                var firstRow = new ReadOnlySpan<T>(c, outFeatures);
                for (int i = 1; i < rows; i++) firstRow.CopyTo(new Span<T>(c + (nint)i * outFeatures, outFeatures));

                nint zero = 0;
                T one = typeof(T) == typeof(float) ? Unsafe.BitCast<float, T>(1f) : Unsafe.BitCast<double, T>(1d);
                GemmKernel.MultiplyBatched(1, xTrans, wTrans, rows, outFeatures, features,
                    (xCopy ?? x).Pointer<T>(), &zero, ldx, (wCopy ?? weight).Pointer<T>(), &zero, ldw, c, 0, outFeatures, one);
            }
            finally
            {
                xCopy?.Dispose();
                wCopy?.Dispose();
            }
        }

        /// <summary>The number of feature vectors in x: the product of its leading dimensions.</summary>
        private static int LeadingRows(Tensor x)
        {
            int rows = 1;
            for (int i = 0; i < x.Rank - 1; i++) rows *= x.ShapeArray[i];
            return rows;
        }

        /// <summary>How GEMM reads x as a rows × features matrix (all leading dimensions as rows); false when it needs a copy.</summary>
        private static bool InputRows(Tensor x, int rows, int features, out bool trans, out int ld)
        {
            // Dense rows need no view arithmetic (and no arrays): row i starts at i·features.
            if (x.IsContiguous) return MatrixLayout.TryGemmOperand(rows, features, features, 1, out trans, out ld);
            var strides = ReshapeOp.ViewStrides(x.ShapeArray, x.StridesArray, [rows, features]);
            if (strides is null)
            {
                (trans, ld) = (false, 0);
                return false;
            }
            return MatrixLayout.TryGemmOperand(rows, features, strides[0], strides[1], out trans, out ld);
        }

        public override Tensor?[] Backward(BackwardContext c, NoAttributes a)
        {
            var (x, weight) = (c.Input(0), c.Input(1));
            int features = weight.ShapeArray[1], outFeatures = weight.ShapeArray[0];
            int rows = LeadingRows(x);
            var grad2 = c.Grad.Reshape(rows, outFeatures);
            return
            [
                c.NeedsGrad(0) ? c.Grad.MatMul(weight) : null,
                c.NeedsGrad(1) ? MatMulOp.Call(grad2, x.Reshape(rows, features), true, false) : null,
                c.NeedsGrad(2) ? grad2.Sum(0) : null,
            ];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
        {
            var (x, weight, bias) = (inputs[0], inputs[1], inputs[2]);
            int features = weight.ShapeArray[1], outFeatures = weight.ShapeArray[0];
            var xv = x.ToArray<double>();
            var wv = weight.ToArray<double>();
            var bv = bias.ToArray<double>();
            int rows = LeadingRows(x);
            var y = new double[rows * outFeatures];
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < outFeatures; o++)
                {
                    double sum = bv[o];
                    for (int i = 0; i < features; i++) sum += xv[r * features + i] * wv[o * features + i];
                    y[r * outFeatures + o] = sum;
                }
            var shape = x.ShapeArray.ToArray();
            shape[^1] = outFeatures;
            return Tensor.From<double>(y, shape);
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("batch of rows", () => [OpSample.Uniform(401, -1, 1, 4, 3), OpSample.Uniform(402, -1, 1, 5, 3), OpSample.Uniform(403, -1, 1, 5)], NoAttributes.Instance),
            new("single vector", () => [OpSample.Uniform(404, -1, 1, 3), OpSample.Uniform(405, -1, 1, 2, 3), OpSample.Uniform(406, -1, 1, 2)], NoAttributes.Instance),
            new("sequence batch", () => [OpSample.Uniform(407, -1, 1, 2, 3, 4), OpSample.Uniform(408, -1, 1, 5, 4), OpSample.Uniform(409, -1, 1, 5)], NoAttributes.Instance),
            new("empty batch", () => [OpSample.Uniform(410, -1, 1, 0, 3), OpSample.Uniform(411, -1, 1, 2, 3), OpSample.Uniform(412, -1, 1, 2)], NoAttributes.Instance),
            new("tile edges", () => [OpSample.Uniform(413, -1, 1, 33, 65), OpSample.Uniform(414, -1, 1, 17, 65), OpSample.Uniform(415, -1, 1, 17)], NoAttributes.Instance) { CheckGradient = false },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("feature count differs", [new TensorSpec(new Shape(8, 128), DType.Float32), new TensorSpec(new Shape(10, 256), DType.Float32), new TensorSpec(new Shape(10), DType.Float32)], NoAttributes.Instance),
            new("bias of the wrong size", [new TensorSpec(new Shape(8, 4), DType.Float32), new TensorSpec(new Shape(10, 4), DType.Float32), new TensorSpec(new Shape(4), DType.Float32)], NoAttributes.Instance),
            new("weight not a matrix", [new TensorSpec(new Shape(8, 4), DType.Float32), new TensorSpec(new Shape(4), DType.Float32), new TensorSpec(new Shape(1), DType.Float32)], NoAttributes.Instance),
            new("mixed dtypes", [new TensorSpec(new Shape(8, 4), DType.Float64), new TensorSpec(new Shape(10, 4), DType.Float32), new TensorSpec(new Shape(10), DType.Float32)], NoAttributes.Instance),
            new("scalar input", [new TensorSpec(new Shape(), DType.Float32), new TensorSpec(new Shape(10, 4), DType.Float32), new TensorSpec(new Shape(10), DType.Float32)], NoAttributes.Instance),
        ];
    }
}

namespace Kiln.NN
{
    using Kiln.Ops;

    /// <summary>Functional forms of the layers: stateless ops on tensors.</summary>
    public static partial class F
    {
        /// <summary>
        /// Applies y = x·Wᵀ + b over the last dimension of <paramref name="input"/>, with
        /// <paramref name="weight"/> of shape [out_features, in_features] and an optional
        /// <paramref name="bias"/> of shape [out_features]; leading dimensions are kept.
        /// </summary>
        public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias = null)
        {
            if (bias is not null) return Dispatcher.Call(LinearOp.Instance, NoAttributes.Instance, input, weight, bias);
            LinearOp.Instance.CheckInputAndWeight(Dispatcher.SpecsOf([input, weight]));
            return MatMulOp.Call(input, weight, false, true);
        }
    }
}
