using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops
{
    /// <summary>
    /// Matrix product with PyTorch's matmul rules: vector·vector is a dot product, a vector on the left
    /// (right) acts as a one-row (one-column) matrix whose unit dimension is dropped from the result,
    /// and dimensions before the last two are batch dimensions that broadcast. The attributes ask for
    /// the transpose of an operand's last two dimensions; GEMM reads it transposed, nothing is copied.
    /// </summary>
    internal sealed class MatMulOp : OpDef<MatMulOp.Attributes>
    {
        /// <summary>Whether the product uses the transpose of A's (B's) last two dimensions; both operands must then be at least 2-D.</summary>
        internal sealed record Attributes(bool TransposeA, bool TransposeB) : OpAttributes
        {
            /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
            internal override void Write(AttributeWriter writer)
            {
                writer.Bool(TransposeA);
                writer.Bool(TransposeB);
            }

            internal static Attributes Read(AttributeReader reader) => Of(reader.Bool("transpose_a"), reader.Bool("transpose_b"));

            [ModuleInitializer]
            internal static void RegisterFormat() => AttributeFormat<Attributes>.Reader = Read;

            internal static readonly Attributes None = new(false, false);
            internal static readonly Attributes TransposedA = new(true, false);
            internal static readonly Attributes TransposedB = new(false, true);
            internal static readonly Attributes TransposedBoth = new(true, true);

            internal static Attributes Of(bool transposeA, bool transposeB)
                => transposeA ? (transposeB ? TransposedBoth : TransposedA) : (transposeB ? TransposedB : None);
        }

        internal static readonly MatMulOp Instance = new();

        [ModuleInitializer]
        internal static void Register() => OpRegistry.Add(Instance);

        public override string Name => "MatMul";
        public override int Arity => 2;

        /// <summary>op(A)·op(B) as an op call (differentiable); the backward of MatMul is written with this.</summary>
        internal static Tensor Call(Tensor a, Tensor b, bool transposeA, bool transposeB)
            => Dispatcher.Call(Instance, Attributes.Of(transposeA, transposeB), a, b);

        /// <summary>The sizes of one product: broadcast batch shape, op(A) is M×K, op(B) is K×N.</summary>
        internal readonly record struct Geometry(int[] Batch, int M, int N, int K, int[] Output);

        internal Geometry Measure(ReadOnlySpan<TensorSpec> inputs, Attributes at)
        {
            var (a, b) = (inputs[0], inputs[1]);
            if (a.DType != b.DType)
                throw Error($"dtypes differ: {a.DType.Name()} and {b.DType.Name()}", inputs);
            if (!a.DType.IsFloatingPoint())
                throw Error($"expects floating-point tensors, got {a.DType.Name()}", inputs);
            if (a.Shape.Rank == 0 || b.Shape.Rank == 0)
                throw Error("both operands need at least one dimension (use Mul for scalars)", inputs);
            if (at.TransposeA && a.Shape.Rank < 2)
                throw Error("TransposeA needs a matrix on the left, got a vector", inputs);
            if (at.TransposeB && b.Shape.Rank < 2)
                throw Error("TransposeB needs a matrix on the right, got a vector", inputs);

            var aDims = a.Shape.AsSpan();
            var bDims = b.Shape.AsSpan();
            int m, ka, kb, n;
            if (aDims.Length == 1) (m, ka) = (1, aDims[0]);
            else (m, ka) = at.TransposeA ? (aDims[^1], aDims[^2]) : (aDims[^2], aDims[^1]);
            if (bDims.Length == 1) (kb, n) = (bDims[0], 1);
            else (kb, n) = at.TransposeB ? (bDims[^1], bDims[^2]) : (bDims[^2], bDims[^1]);
            if (ka != kb)
                throw new KilnShapeException($"{Name}: inner dimensions differ: {Describe(a, at.TransposeA)} @ {Describe(b, at.TransposeB)}");

            ReadOnlySpan<int> batchA = aDims.Length > 2 ? aDims[..^2] : [];
            ReadOnlySpan<int> batchB = bDims.Length > 2 ? bDims[..^2] : [];
            var batch = Kiln.Shape.Broadcast(batchA, batchB)
                ?? throw new KilnShapeException($"{Name}: batch dimensions {Kiln.Shape.Format(batchA)} and {Kiln.Shape.Format(batchB)} do not broadcast: {Describe(a, at.TransposeA)} @ {Describe(b, at.TransposeB)}");
            var output = new List<int>(batch);
            if (aDims.Length > 1) output.Add(m);
            if (bDims.Length > 1) output.Add(n);
            return new Geometry(batch, m, n, ka, [.. output]);
        }

        private static string Describe(TensorSpec t, bool transposed) => transposed ? $"{t} (transposed)" : t.ToString();

        public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes at)
            => new(Kiln.Shape.Wrap(Measure(inputs, at).Output), inputs[0].DType);

        public override void Forward(ReadOnlySpan<Tensor> inputs, Attributes at, Tensor output)
        {
            if (TryMatrixProduct(inputs[0], inputs[1], at, output)) return;
            var g = Measure([TensorSpec.Of(inputs[0]), TensorSpec.Of(inputs[1])], at);
            if (output.NumElements == 0) return;
            if (!output.IsContiguous)
            {
                using var dense = Tensor.Empty(output.ShapeArray, output.DType);
                Forward(inputs, at, dense);
                Dispatcher.CopyInto(dense, output);
                return;
            }
            if (output.DType == DType.Float32) Run<float>(inputs[0], inputs[1], at, g, output);
            else Run<double>(inputs[0], inputs[1], at, g, output);
        }

        /// <summary>
        /// The product of two matrices GEMM reads in place (the case of every Linear layer's backward),
        /// without measuring a batch geometry: nothing is allocated, so a replayed training step stays
        /// allocation-free. The same GEMM call as the general path, so the same bits.
        /// </summary>
        private static unsafe bool TryMatrixProduct(Tensor a, Tensor b, Attributes at, Tensor output)
        {
            if (a.Rank != 2 || b.Rank != 2 || output.Rank != 2 || !output.IsContiguous || output.NumElements == 0 || a.DType != b.DType) return false;
            var (aShape, bShape) = (a.ShapeArray, b.ShapeArray);
            int m = at.TransposeA ? aShape[1] : aShape[0], k = at.TransposeA ? aShape[0] : aShape[1];
            int n = at.TransposeB ? bShape[0] : bShape[1];
            if (k == 0) return false;
            var g = new Geometry([], m, n, k, output.ShapeArray);
            if (!Operand(a, at.TransposeA, true, g, out var aTrans, out var lda) || !Operand(b, at.TransposeB, false, g, out var bTrans, out var ldb)) return false;
            nint zero = 0;
            if (output.DType == DType.Float32)
                GemmKernel.MultiplyBatched(1, aTrans, bTrans, m, n, k, a.Pointer<float>(), &zero, lda, b.Pointer<float>(), &zero, ldb, output.Pointer<float>(), (nint)m * n, n, default(float));
            else if (output.DType == DType.Float64)
                GemmKernel.MultiplyBatched(1, aTrans, bTrans, m, n, k, a.Pointer<double>(), &zero, lda, b.Pointer<double>(), &zero, ldb, output.Pointer<double>(), (nint)m * n, n, default(double));
            else return false;
            return true;
        }

        /// <summary>
        /// One GEMM per batch element, or a single GEMM when B is shared by the whole batch and A's batch
        /// rows follow each other at one stride (x[b, s, k]·W[k, n] is one [b·s, k]·[k, n] product).
        /// </summary>
        private static unsafe void Run<T>(Tensor a, Tensor b, Attributes at, Geometry g, Tensor output) where T : unmanaged
        {
            Tensor? aCopy = null, bCopy = null;
            try
            {
                if (!Operand(a, at.TransposeA, true, g, out var aTrans, out var lda))
                {
                    aCopy = MatrixLayout.DenseCopy(a);
                    Operand(aCopy, at.TransposeA, true, g, out aTrans, out lda);
                }
                if (!Operand(b, at.TransposeB, false, g, out var bTrans, out var ldb))
                {
                    bCopy = MatrixLayout.DenseCopy(b);
                    Operand(bCopy, at.TransposeB, false, g, out bTrans, out ldb);
                }
                var aSource = aCopy ?? a;
                var bSource = bCopy ?? b;
                var aBatch = BatchStrides(aSource, g.Batch);
                var bBatch = BatchStrides(bSource, g.Batch);
                int count = checked((int)Kiln.Shape.Wrap(g.Batch).NumElements);
                T* pa = aSource.Pointer<T>(), pb = bSource.Pointer<T>(), pc = output.Pointer<T>();

                if (count > 1 && !aTrans && Array.TrueForAll(bBatch, s => s == 0) && FoldsIntoRows(g, aBatch, lda))
                {
                    nint zero = 0;
                    GemmKernel.MultiplyBatched(1, false, bTrans, count * g.M, g.N, g.K, pa, &zero, lda, pb, &zero, ldb, pc, 0, g.N, default(T));
                    return;
                }
                var aOffsets = new nint[count];
                var bOffsets = new nint[count];
                var index = new int[g.Batch.Length];
                for (int i = 0; i < count; i++)
                {
                    nint ao = 0, bo = 0;
                    for (int d = 0; d < index.Length; d++)
                    {
                        ao += (nint)index[d] * aBatch[d];
                        bo += (nint)index[d] * bBatch[d];
                    }
                    aOffsets[i] = ao;
                    bOffsets[i] = bo;
                    for (int d = index.Length - 1; d >= 0 && ++index[d] == g.Batch[d]; d--) index[d] = 0;
                }
                fixed (nint* ao = aOffsets, bo = bOffsets)
                    GemmKernel.MultiplyBatched(count, aTrans, bTrans, g.M, g.N, g.K, pa, ao, lda, pb, bo, ldb, pc, (nint)g.M * g.N, g.N, default(T));
            }
            finally
            {
                aCopy?.Dispose();
                bCopy?.Dispose();
            }
        }

        /// <summary>How GEMM reads op(X)'s matrix (A: M×K, B: K×N) in <paramref name="x"/>'s last two dimensions; false when it needs a copy.</summary>
        private static bool Operand(Tensor x, bool transpose, bool isA, Geometry g, out bool trans, out int ld)
        {
            var shape = x.ShapeArray;
            var strides = x.StridesArray;
            int rows = isA ? g.M : g.K, cols = isA ? g.K : g.N;
            int rowStride, colStride;
            if (x.Rank == 1)
            {
                // A vector is a 1×K row on the left and a K×1 column on the right.
                (rowStride, colStride) = isA ? (0, strides[0]) : (strides[0], 0);
            }
            else
            {
                (rowStride, colStride) = transpose ? (strides[^1], strides[^2]) : (strides[^2], strides[^1]);
                if (shape[^1] == 0 || shape[^2] == 0) (rowStride, colStride) = (cols, 1);
            }
            return MatrixLayout.TryGemmOperand(rows, cols, rowStride, colStride, out trans, out ld);
        }

        /// <summary>Element strides of <paramref name="x"/>'s batch dimensions aligned to the broadcast batch shape (0 where broadcast).</summary>
        private static int[] BatchStrides(Tensor x, int[] batch)
        {
            var result = new int[batch.Length];
            int own = Math.Max(x.Rank - 2, 0);
            for (int i = 0; i < own; i++)
            {
                int d = batch.Length - own + i;
                result[d] = x.ShapeArray[i] == 1 ? 0 : x.StridesArray[i];
            }
            return result;
        }

        /// <summary>Whether A's batch dimensions and rows form one run of rows lda apart.</summary>
        private static bool FoldsIntoRows(Geometry g, int[] aBatch, int lda)
        {
            long expected = (long)g.M * lda;
            for (int d = g.Batch.Length - 1; d >= 0; d--)
            {
                if (g.Batch[d] == 1) continue;
                if (aBatch[d] != expected) return false;
                expected *= g.Batch[d];
            }
            return true;
        }

        public override Tensor?[] Backward(BackwardContext c, Attributes at)
        {
            var (a, b) = (c.Input(0), c.Input(1));
            bool vectorA = a.Rank == 1, vectorB = b.Rank == 1;
            // Vectors become the 1×K and K×1 matrices the forward used, and the gradient gets their unit dimensions back.
            var a2 = vectorA ? a.Reshape(1, a.ShapeArray[0]) : a;
            var b2 = vectorB ? b.Reshape(b.ShapeArray[0], 1) : b;
            var grad = c.Grad;
            if (vectorA || vectorB)
            {
                var dims = new List<int>(grad.ShapeArray);
                if (vectorA) dims.Insert(vectorB ? dims.Count : dims.Count - 1, 1);
                if (vectorB) dims.Add(1);
                grad = grad.Reshape([.. dims]);
            }

            Tensor? gradA = null, gradB = null;
            if (c.NeedsGrad(0))
            {
                // C = A'·B' gives dA' = G·B'ᵀ; a stored transpose takes the transpose of that, B'·Gᵀ.
                var d = at.TransposeA ? Call(b2, grad, at.TransposeB, true) : Call(grad, b2, false, !at.TransposeB);
                gradA = d.SumTo(a2.Shape);
                if (vectorA) gradA = gradA.Reshape(a.ShapeArray);
            }
            if (c.NeedsGrad(1))
            {
                // dB' = A'ᵀ·G; a stored transpose takes Gᵀ·A'.
                var d = at.TransposeB ? Call(grad, a2, true, at.TransposeA) : Call(a2, grad, !at.TransposeA, false);
                gradB = d.SumTo(b2.Shape);
                if (vectorB) gradB = gradB.Reshape(b.ShapeArray);
            }
            return [gradA, gradB];
        }

        public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes at)
        {
            var (a, b) = (inputs[0], inputs[1]);
            var g = Measure([TensorSpec.Of(a), TensorSpec.Of(b)], at);
            var av = a.ToArray<double>();
            var bv = b.ToArray<double>();
            var result = new double[Kiln.Shape.Wrap(g.Output).NumElements];
            int count = (int)Kiln.Shape.Wrap(g.Batch).NumElements;
            var index = new int[g.Batch.Length];
            for (int batch = 0; batch < count; batch++)
            {
                int rem = batch;
                for (int d = g.Batch.Length - 1; d >= 0; d--) { index[d] = rem % g.Batch[d]; rem /= g.Batch[d]; }
                int aBase = BatchOffset(a.ShapeArray, index) * (a.Rank == 1 ? 0 : 1);
                int bBase = BatchOffset(b.ShapeArray, index) * (b.Rank == 1 ? 0 : 1);
                for (int i = 0; i < g.M; i++)
                    for (int j = 0; j < g.N; j++)
                    {
                        double sum = 0;
                        for (int p = 0; p < g.K; p++)
                            sum += av[aBase + ElementOffset(a, at.TransposeA, i, p, true)] * bv[bBase + ElementOffset(b, at.TransposeB, p, j, false)];
                        result[(batch * g.M + i) * g.N + j] = sum;
                    }
            }
            return Tensor.From<double>(result, g.Output);
        }

        /// <summary>Offset, in a contiguous copy of a tensor of <paramref name="shape"/>, of the matrix at a broadcast batch index.</summary>
        private static int BatchOffset(int[] shape, int[] batchIndex)
        {
            if (shape.Length < 2) return 0;
            int own = shape.Length - 2, offset = 0;
            for (int i = 0; i < own; i++)
            {
                int idx = shape[i] == 1 ? 0 : batchIndex[batchIndex.Length - own + i];
                offset = offset * shape[i] + idx;
            }
            return offset * shape[^2] * shape[^1];
        }

        /// <summary>Offset of op(X)[row, col] within one matrix of a contiguous copy of <paramref name="x"/>.</summary>
        private static int ElementOffset(Tensor x, bool transpose, int row, int col, bool isA)
        {
            if (x.Rank == 1) return isA ? col : row;
            if (transpose) (row, col) = (col, row);
            return row * x.ShapeArray[^1] + col;
        }

        public override IEnumerable<OpSample> Samples() =>
        [
            new("dot", () => [OpSample.Uniform(301, -1, 1, 5), OpSample.Uniform(302, -1, 1, 5)], Attributes.None),
            new("matrix @ matrix", () => [OpSample.Uniform(303, -1, 1, 3, 4), OpSample.Uniform(304, -1, 1, 4, 5)], Attributes.None),
            new("vector @ matrix", () => [OpSample.Uniform(305, -1, 1, 4), OpSample.Uniform(306, -1, 1, 4, 3)], Attributes.None),
            new("matrix @ vector", () => [OpSample.Uniform(307, -1, 1, 3, 4), OpSample.Uniform(308, -1, 1, 4)], Attributes.None),
            new("batched", () => [OpSample.Uniform(309, -1, 1, 2, 3, 4), OpSample.Uniform(310, -1, 1, 2, 4, 5)], Attributes.None),
            new("broadcast batch", () => [OpSample.Uniform(311, -1, 1, 2, 1, 3, 4), OpSample.Uniform(312, -1, 1, 3, 4, 2)], Attributes.None),
            new("batched @ matrix", () => [OpSample.Uniform(313, -1, 1, 2, 3, 4), OpSample.Uniform(314, -1, 1, 4, 5)], Attributes.None),
            new("matrix @ batched", () => [OpSample.Uniform(315, -1, 1, 3, 4), OpSample.Uniform(316, -1, 1, 2, 4, 5)], Attributes.None),
            new("vector @ batched", () => [OpSample.Uniform(317, -1, 1, 4), OpSample.Uniform(318, -1, 1, 2, 4, 3)], Attributes.None),
            new("batched @ vector", () => [OpSample.Uniform(319, -1, 1, 2, 3, 4), OpSample.Uniform(320, -1, 1, 4)], Attributes.None),
            new("transpose A", () => [OpSample.Uniform(321, -1, 1, 4, 3), OpSample.Uniform(322, -1, 1, 4, 5)], Attributes.TransposedA),
            new("transpose B", () => [OpSample.Uniform(323, -1, 1, 3, 4), OpSample.Uniform(324, -1, 1, 5, 4)], Attributes.TransposedB),
            new("transpose both, batched", () => [OpSample.Uniform(325, -1, 1, 2, 4, 3), OpSample.Uniform(326, -1, 1, 1, 5, 4)], Attributes.TransposedBoth),
            new("empty inner dimension", () => [OpSample.Uniform(327, -1, 1, 3, 0), OpSample.Uniform(328, -1, 1, 0, 4)], Attributes.None),
            new("empty batch", () => [OpSample.Uniform(329, -1, 1, 0, 3, 2), OpSample.Uniform(330, -1, 1, 2, 4)], Attributes.None),
            new("tile edges", () => [OpSample.Uniform(331, -1, 1, 17, 33), OpSample.Uniform(332, -1, 1, 33, 19)], Attributes.None) { CheckGradient = false },
            new("parallel", () => [OpSample.Uniform(333, -1, 1, 70, 130), OpSample.Uniform(334, -1, 1, 300, 130)], Attributes.TransposedB) { CheckGradient = false },
        ];

        public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [
            new("inner dimensions differ", [new TensorSpec(new Shape(32, 128), DType.Float32), new TensorSpec(new Shape(256, 10), DType.Float32)], Attributes.None),
            new("batch dimensions do not broadcast", [new TensorSpec(new Shape(2, 3, 4), DType.Float32), new TensorSpec(new Shape(3, 4, 5), DType.Float32)], Attributes.None),
            new("scalar operand", [new TensorSpec(new Shape(), DType.Float32), new TensorSpec(new Shape(3), DType.Float32)], Attributes.None),
            new("mixed dtypes", [new TensorSpec(new Shape(2, 3), DType.Float32), new TensorSpec(new Shape(3, 2), DType.Float64)], Attributes.None),
            new("integer dtype", [new TensorSpec(new Shape(2, 3), DType.Int64), new TensorSpec(new Shape(3, 2), DType.Int64)], Attributes.None),
            new("transposed vector", [new TensorSpec(new Shape(3), DType.Float32), new TensorSpec(new Shape(3, 2), DType.Float32)], Attributes.TransposedA),
        ];
    }
}

namespace Kiln
{
    using Kiln.Ops;

    public sealed partial class Tensor
    {
        /// <summary>
        /// Matrix product with PyTorch's matmul rules: 1-D·1-D is a dot product, a 1-D operand acts as a
        /// row (left) or column (right) vector, and leading batch dimensions broadcast. Both operands
        /// must have the same floating-point dtype.
        /// </summary>
        public Tensor MatMul(Tensor other) => MatMulOp.Call(this, other, false, false);
    }
}
