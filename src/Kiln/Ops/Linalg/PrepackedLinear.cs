using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// y = x·op(W) (+ bias) with W a fixed weight whose GEMM panels were packed once (by the compiler's
/// <c>GemmWeightPrepacking</c> pass), so a call skips packing W: inputs are x [..., K], the weight
/// ([K, N], or [N, K] when <see cref="Attributes.TransposeB"/>, as Linear stores it) and optionally a
/// bias [N]. The result has the bits of the <see cref="LinearOp"/> or <see cref="MatMulOp"/> node it
/// replaces: the same microkernel runs the same depth blocks on the same panels. The weight input must
/// hold the values that were packed; float64, or attributes without panels, run the unpacked op.
/// </summary>
internal sealed class PrepackedLinearOp : OpDef<PrepackedLinearOp.Attributes>
{
    /// <summary>Whether the weight is stored [N, K] (Linear's layout), and its packed panels (compared by identity).</summary>
    internal sealed record Attributes(bool TransposeB, PackedGemmMatrix? Packed) : OpAttributes;

    internal static readonly PrepackedLinearOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "PrepackedLinear";
    public override bool IsPortable => false;
    public override int Arity => Variadic;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes at)
    {
        if (inputs.Length is < 2 or > 3)
            throw Error($"takes an input, a weight and an optional bias, got {inputs.Length} inputs", inputs);
        var (x, weight) = (inputs[0], inputs[1]);
        if (x.DType != weight.DType)
            throw Error($"input dtype {x.DType.Name()} differs from weight dtype {weight.DType.Name()}", inputs);
        if (!x.DType.IsFloatingPoint())
            throw Error($"expects floating-point tensors, got {x.DType.Name()}", inputs);
        if (weight.Shape.Rank != 2)
            throw Error($"weight must be a matrix, got {weight.Shape}", inputs);
        if (x.Shape.Rank == 0)
            throw Error("input must have a feature dimension, got a scalar", inputs);
        var (k, n) = Sizes(weight, at.TransposeB);
        if (x.Shape[-1] != k)
            throw Error($"input has {x.Shape[-1]} features, expected {k} (weight {weight.Shape}{(at.TransposeB ? ", transposed" : "")})", inputs);
        if (at.Packed is { } packed && (packed.K != k || packed.N != n))
            throw Error($"packed weight is {packed.K}x{packed.N}, expected {k}x{n}", inputs);
        if (inputs.Length == 3)
        {
            var bias = inputs[2];
            if (!at.TransposeB)
                throw Error("a bias goes with a weight stored [N, K] (TransposeB), as Linear stores it", inputs);
            if (bias.DType != weight.DType)
                throw Error($"bias dtype {bias.DType.Name()} differs from weight dtype {weight.DType.Name()}", inputs);
            if (bias.Shape.Rank != 1 || bias.Shape[0] != n)
                throw Error($"bias has shape {bias.Shape}, expected [{n}]", inputs);
        }
        var dims = x.Shape.ToArray();
        dims[^1] = n;
        return new TensorSpec(Kiln.Shape.Wrap(dims), x.DType);
    }

    /// <summary>op(W)'s rows and columns: the product's inner dimension and its output features.</summary>
    private static (int K, int N) Sizes(TensorSpec weight, bool transposeB)
        => transposeB ? (weight.Shape[1], weight.Shape[0]) : (weight.Shape[0], weight.Shape[1]);

    /// <summary>Packs op(<paramref name="weight"/>), a float32 matrix, for the default GEMM microkernel family.</summary>
    internal static unsafe PackedGemmMatrix Pack(Tensor weight, bool transposeB)
    {
        int rows = weight.ShapeArray[0], cols = weight.ShapeArray[1];
        var (k, n) = transposeB ? (cols, rows) : (rows, cols);
        var (rowStride, colStride) = transposeB
            ? (weight.StridesArray[1], weight.StridesArray[0])
            : (weight.StridesArray[0], weight.StridesArray[1]);
        if (MatrixLayout.TryGemmOperand(k, n, rowStride, colStride, out var trans, out var ld))
            return PackedGemmMatrix.Pack(trans, k, n, weight.Pointer<float>(), ld, GemmKernel.BestTier);
        using var dense = MatrixLayout.DenseCopy(weight);
        return Pack(dense, transposeB);
    }

    public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes at, Tensor output)
    {
        if (output.NumElements == 0) return;
        if (output.DType != DType.Float32 || at.Packed is null || !output.IsContiguous)
        {
            Unpacked(inputs, at, output);
            return;
        }
        Packed(inputs[0], at.Packed, inputs.Length == 3 ? inputs[2] : null, output);
    }

    /// <summary>The op this node stands for, on the weight input.</summary>
    private static void Unpacked(ReadOnlySpan<Tensor> inputs, Attributes at, Tensor output)
    {
        if (inputs.Length == 3)
            LinearOp.Instance.Forward(inputs, NoAttributes.Instance, output);
        else
            MatMulOp.Instance.Forward(inputs, MatMulOp.Attributes.Of(false, at.TransposeB), output);
    }

    /// <summary>As <see cref="LinearOp"/> does: bias rows written first and accumulated onto (beta 1), or beta 0 without a bias.</summary>
    private static unsafe void Packed(Tensor x, PackedGemmMatrix packed, Tensor? bias, Tensor output)
    {
        int k = packed.K, n = packed.N;
        int rows = (int)(output.NumElements / Math.Max(n, 1));
        Tensor? xCopy = x.IsContiguous ? null : MatrixLayout.DenseCopy(x);
        try
        {
            float* c = output.Pointer<float>();
            float beta = 0f;
            if (bias is not null)
            {
                float* b = bias.Pointer<float>();
                int stride = bias.StridesArray[0];
                for (int j = 0; j < n; j++) c[j] = b[(nint)j * stride];
                var firstRow = new ReadOnlySpan<float>(c, n);
                for (int i = 1; i < rows; i++) firstRow.CopyTo(new Span<float>(c + (nint)i * n, n));
                beta = 1f;
            }
            GemmKernel.MultiplyPacked(false, rows, (xCopy ?? x).Pointer<float>(), Math.Max(k, 1), packed, c, n, beta, WorkerPool.Shared);
        }
        finally
        {
            xCopy?.Dispose();
        }
    }

    public override Tensor?[] Backward(BackwardContext c, Attributes at)
    {
        var (x, weight) = (c.Input(0), c.Input(1));
        var (k, n) = Sizes(TensorSpec.Of(weight), at.TransposeB);
        int rows = (int)(x.NumElements / Math.Max(k, 1));
        var grad2 = c.Grad.Reshape(rows, n);
        var x2 = x.Reshape(rows, k);
        var grads = new Tensor?[c.Inputs.Length];
        if (c.NeedsGrad(0)) grads[0] = MatMulOp.Call(c.Grad, weight, false, !at.TransposeB);
        if (c.NeedsGrad(1)) grads[1] = at.TransposeB ? MatMulOp.Call(grad2, x2, true, false) : MatMulOp.Call(x2, grad2, true, false);
        if (grads.Length == 3 && c.NeedsGrad(2)) grads[2] = grad2.Sum(0);
        return grads;
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes at)
    {
        var (x, weight) = (inputs[0], inputs[1]);
        var (k, n) = Sizes(TensorSpec.Of(weight), at.TransposeB);
        var xv = x.ToArray<double>();
        var wv = weight.ToArray<double>();
        var bv = inputs.Length == 3 ? inputs[2].ToArray<double>() : null;
        int rows = xv.Length / Math.Max(k, 1);
        var y = new double[rows * n];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++)
            {
                double sum = bv?[j] ?? 0;
                for (int p = 0; p < k; p++) sum += xv[r * k + p] * (at.TransposeB ? wv[j * k + p] : wv[p * n + j]);
                y[r * n + j] = sum;
            }
        var shape = x.ShapeArray.ToArray();
        shape[^1] = n;
        return Tensor.From<double>(y, shape);
    }

    /// <summary>Attributes holding the float32 panels of a sample's weight.</summary>
    private static Attributes PackedSample(Tensor weight, bool transposeB)
    {
        using var w32 = weight.To(DType.Float32);
        return new Attributes(transposeB, Pack(w32, transposeB));
    }

    public override IEnumerable<OpSample> Samples()
    {
        var linearWeight = OpSample.Uniform(422, -1, 1, 17, 65);
        var matmulWeight = OpSample.Uniform(425, -1, 1, 7, 5);
        return
        [
            new("linear, tile edges", () => [OpSample.Uniform(421, -1, 1, 33, 65), OpSample.Uniform(422, -1, 1, 17, 65), OpSample.Uniform(423, -1, 1, 17)], PackedSample(linearWeight, true)) { CheckGradient = false },
            new("matmul, batch of matrices", () => [OpSample.Uniform(424, -1, 1, 2, 3, 7), OpSample.Uniform(425, -1, 1, 7, 5)], PackedSample(matmulWeight, false)),
            new("linear, single vector, no panels", () => [OpSample.Uniform(426, -1, 1, 3), OpSample.Uniform(427, -1, 1, 2, 3), OpSample.Uniform(428, -1, 1, 2)], new Attributes(true, null)),
            new("matmul, weight stored transposed, no panels", () => [OpSample.Uniform(429, -1, 1, 4, 3), OpSample.Uniform(430, -1, 1, 5, 3)], new Attributes(true, null)),
        ];
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        new("feature count differs", [new TensorSpec(new Shape(8, 128), DType.Float32), new TensorSpec(new Shape(10, 256), DType.Float32)], new Attributes(true, null)),
        new("bias of the wrong size", [new TensorSpec(new Shape(8, 4), DType.Float32), new TensorSpec(new Shape(10, 4), DType.Float32), new TensorSpec(new Shape(4), DType.Float32)], new Attributes(true, null)),
        new("weight not a matrix", [new TensorSpec(new Shape(8, 4), DType.Float32), new TensorSpec(new Shape(4), DType.Float32)], new Attributes(false, null)),
        new("bias with a [K, N] weight", [new TensorSpec(new Shape(8, 4), DType.Float32), new TensorSpec(new Shape(4, 10), DType.Float32), new TensorSpec(new Shape(10), DType.Float32)], new Attributes(false, null)),
        new("mixed dtypes", [new TensorSpec(new Shape(8, 4), DType.Float64), new TensorSpec(new Shape(4, 10), DType.Float32)], new Attributes(false, null)),
    ];
}
