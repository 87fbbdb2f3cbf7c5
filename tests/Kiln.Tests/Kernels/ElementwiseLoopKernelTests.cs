using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>
/// ElementwiseLoop against naive index loops: contiguous lengths 0..257, chunk boundaries, broadcast
/// operands, odd strides, offsets, strided outputs and random layouts. Rerun under reduced ISAs by IsaRerunTests.
/// </summary>
public sealed unsafe class ElementwiseLoopKernelTests
{
    // Operators with vectorized span bodies (TensorPrimitives), so every ISA tier is exercised. Subtract is
    // not commutative: a swapped operand in the scalar forms shows up.
    private readonly struct Subtract<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
    {
        public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
        public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
        public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Subtract(x, y, d);
    }

    private readonly struct Multiply<T> : IBinarySpanOperator<T, T> where T : unmanaged, INumber<T>
    {
        public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
        public static void Invoke(ReadOnlySpan<T> x, T y, Span<T> d) => TensorPrimitives.Multiply(x, y, d);
        public static void Invoke(T x, ReadOnlySpan<T> y, Span<T> d) => TensorPrimitives.Multiply(y, x, d);
    }

    /// <summary>An output type other than the input type: 1 where x &gt; y.</summary>
    private readonly struct Greater<T> : IBinarySpanOperator<T, byte> where T : unmanaged, INumber<T>
    {
        public static void Invoke(ReadOnlySpan<T> x, ReadOnlySpan<T> y, Span<byte> d) { for (int i = 0; i < d.Length; i++) d[i] = x[i] > y[i] ? (byte)1 : (byte)0; }
        public static void Invoke(ReadOnlySpan<T> x, T y, Span<byte> d) { for (int i = 0; i < d.Length; i++) d[i] = x[i] > y ? (byte)1 : (byte)0; }
        public static void Invoke(T x, ReadOnlySpan<T> y, Span<byte> d) { for (int i = 0; i < d.Length; i++) d[i] = x > y[i] ? (byte)1 : (byte)0; }
    }

    private readonly struct Negate<T> : IUnarySpanOperator<T, T> where T : unmanaged, INumber<T>
    {
        public static void Invoke(ReadOnlySpan<T> x, Span<T> d) => TensorPrimitives.Negate(x, d);
    }

    private readonly struct Exp : IUnarySpanOperator<float, float>
    {
        public static void Invoke(ReadOnlySpan<float> x, Span<float> d) => TensorPrimitives.Exp(x, d);
    }

    private readonly struct Truncate<TFrom, TTo> : IUnarySpanOperator<TFrom, TTo>
        where TFrom : unmanaged, INumber<TFrom>
        where TTo : unmanaged, INumber<TTo>
    {
        public static void Invoke(ReadOnlySpan<TFrom> x, Span<TTo> d) => TensorPrimitives.ConvertTruncating(x, d);
    }

    /// <summary>A strided view into a flat buffer: shape, element strides and the offset of element [0, ...].</summary>
    private sealed record View(int[] Shape, int[] Strides, int Offset = 0)
    {
        public static View Dense(params int[] shape) => new(shape, Kiln.Shape.ContiguousStrides(shape));

        /// <summary>Every element one step of <paramref name="step"/> apart, innermost last.</summary>
        public static View Spaced(int step, params int[] shape) => new(shape, Kiln.Shape.ContiguousStrides(shape).Select(s => s * step).ToArray());

        /// <summary>Buffer length the view needs.</summary>
        public int Extent
        {
            get
            {
                if (Shape.Any(d => d == 0)) return Offset + 1;
                int last = Offset;
                for (int i = 0; i < Shape.Length; i++) last += (Shape[i] - 1) * Strides[i];
                return last + 1;
            }
        }

        /// <summary>Element offset of output index <paramref name="index"/>, right-aligned and broadcast.</summary>
        public int OffsetOf(int[] index)
        {
            int lead = index.Length - Shape.Length, o = Offset;
            for (int i = 0; i < Shape.Length; i++)
                if (Shape[i] != 1) o += index[i + lead] * Strides[i];
            return o;
        }

        public (int[], int[]) Layout => (Shape, Strides);
    }

    private static IEnumerable<int[]> Indices(int[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        var index = new int[shape.Length];
        for (long flat = 0; flat < n; flat++)
        {
            long rem = flat;
            for (int d = shape.Length - 1; d >= 0; d--) { index[d] = (int)(rem % shape[d]); rem /= shape[d]; }
            yield return index;
        }
    }

    private static T[] Values<T>(int length, int seed) where T : unmanaged, INumber<T>
    {
        var rng = new Random(seed);
        var v = new T[length];
        for (int i = 0; i < length; i++) v[i] = T.CreateTruncating(rng.Next(-60, 61));
        return v;
    }

    /// <summary>Runs the binary loop into a sentinel-filled buffer and compares every position with the naive result.</summary>
    private static void CheckBinary<T, TOut, TOp>(View y, View a, View b, Func<T, T, TOut> scalar, int seed = 1)
        where T : unmanaged, INumber<T>
        where TOut : unmanaged, INumber<TOut>
        where TOp : IBinarySpanOperator<T, TOut>
    {
        var av = Values<T>(a.Extent, seed);
        var bv = Values<T>(b.Extent, seed + 1);
        var sentinel = TOut.CreateTruncating(123);
        var expected = Enumerable.Repeat(sentinel, y.Extent).ToArray();
        foreach (var index in Indices(y.Shape))
            expected[y.OffsetOf(index)] = scalar(av[a.OffsetOf(index)], bv[b.OffsetOf(index)]);
        var actual = Enumerable.Repeat(sentinel, y.Extent).ToArray();
        var layout = StridedLayout.Create(y.Shape, y.Strides, a.Layout, b.Layout);
        fixed (T* pa = av, pb = bv)
        fixed (TOut* py = actual)
            ElementwiseLoop.Binary<T, TOut, TOp>(layout, pa + a.Offset, pb + b.Offset, py + y.Offset);
        Assert.Equal(expected, actual);
    }

    private static void CheckUnary<TIn, TOut, TOp>(View y, View x, Func<TIn, TOut> scalar, int seed = 3)
        where TIn : unmanaged, INumber<TIn>
        where TOut : unmanaged, INumber<TOut>
        where TOp : IUnarySpanOperator<TIn, TOut>
    {
        var xv = Values<TIn>(x.Extent, seed);
        var sentinel = TOut.CreateTruncating(123);
        var expected = Enumerable.Repeat(sentinel, y.Extent).ToArray();
        foreach (var index in Indices(y.Shape)) expected[y.OffsetOf(index)] = scalar(xv[x.OffsetOf(index)]);
        var actual = Enumerable.Repeat(sentinel, y.Extent).ToArray();
        var layout = StridedLayout.Create(y.Shape, y.Strides, x.Layout);
        fixed (TIn* px = xv)
        fixed (TOut* py = actual)
            ElementwiseLoop.Unary<TIn, TOut, TOp>(layout, px + x.Offset, py + y.Offset);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Binary_on_contiguous_rows_of_every_length_0_to_257()
    {
        for (int n = 0; n <= 257; n++)
        {
            var v = View.Dense(n);
            CheckBinary<float, float, Subtract<float>>(v, v, v, (a, b) => a - b, n);
            CheckBinary<double, double, Multiply<double>>(v, v, v, (a, b) => a * b, n);
            CheckBinary<int, int, Subtract<int>>(v, v, v, (a, b) => a - b, n);
            CheckBinary<long, long, Multiply<long>>(v, v, v, (a, b) => a * b, n);
        }
    }

    [Fact]
    public void Unary_on_contiguous_rows_of_every_length_0_to_257()
    {
        for (int n = 0; n <= 257; n++)
        {
            var v = View.Dense(n);
            CheckUnary<float, float, Negate<float>>(v, v, x => -x, n);
            CheckUnary<double, double, Negate<double>>(v, v, x => -x, n);
            CheckUnary<int, int, Negate<int>>(v, v, x => -x, n);
            CheckUnary<float, int, Truncate<float, int>>(v, v, x => (int)x, n);
            CheckUnary<int, double, Truncate<int, double>>(v, v, x => x, n);
        }
    }

    [Fact]
    public void Unary_exp_matches_math_exp_on_every_length_0_to_257()
    {
        for (int n = 0; n <= 257; n++)
        {
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (i - 128) / 16f;
            var y = new float[n];
            var layout = StridedLayout.Create([n], [1], ([n], [1]));
            fixed (float* px = x, py = y) ElementwiseLoop.Unary<float, float, Exp>(layout, px, py);
            for (int i = 0; i < n; i++)
            {
                double e = Math.Exp(x[i]);
                Assert.True(Math.Abs(y[i] - e) <= 4e-7 * e, $"n={n} exp({x[i]}) = {y[i]}, expected {e}");
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    public void Strided_operands_and_outputs_of_every_length_0_to_257(int step)
    {
        for (int n = 0; n <= 257; n++)
        {
            var dense = View.Dense(n);
            var spaced = View.Spaced(step, n);
            var shifted = new View([n], [step + 1], 5);
            CheckBinary<float, float, Subtract<float>>(dense, spaced, shifted, (a, b) => a - b, n);
            CheckBinary<float, float, Subtract<float>>(spaced, dense, shifted, (a, b) => a - b, n);
            CheckBinary<double, double, Multiply<double>>(shifted, spaced, spaced, (a, b) => a * b, n);
            CheckUnary<float, float, Negate<float>>(spaced, shifted, x => -x, n);
            CheckUnary<double, double, Negate<double>>(dense, spaced, x => -x, n);
        }
    }

    [Theory]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(1024)]
    [InlineData(1500)]
    public void Rows_longer_than_the_gather_chunk(int n)
    {
        CheckBinary<float, float, Subtract<float>>(View.Dense(n), View.Spaced(3, n), View.Dense(n), (a, b) => a - b);
        CheckBinary<float, float, Subtract<float>>(View.Spaced(2, n), new View([n], [0]), View.Spaced(5, n), (a, b) => a - b);
        CheckBinary<double, double, Subtract<double>>(View.Spaced(2, n), View.Dense(n), new View([1], [1]), (a, b) => a - b);
        CheckBinary<int, byte, Greater<int>>(View.Spaced(3, 2, n), View.Spaced(2, 2, n), View.Dense(n), (a, b) => a > b ? (byte)1 : (byte)0);
        CheckUnary<float, float, Negate<float>>(View.Spaced(2, n), View.Spaced(3, n), x => -x);
        CheckUnary<float, float, Negate<float>>(View.Dense(2, n), new View([2, n], [1, 0]), x => -x);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    [InlineData(33)]
    [InlineData(257)]
    public void Broadcast_operands(int n)
    {
        var y = View.Dense(3, n);
        Func<float, float, float> sub = (a, b) => a - b;
        // row broadcast: b is one row for every output row
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(3, n), View.Dense(n), sub);
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(n), View.Dense(3, n), sub);
        // column broadcast: one value per row, the scalar form inside a row
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(3, n), View.Dense(3, 1), sub);
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(3, 1), View.Dense(3, n), sub);
        // both broadcast within a row
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(3, 1), View.Dense(1), sub);
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(), View.Dense(3, 1), sub);
        // outer product
        CheckBinary<float, float, Subtract<float>>(y, View.Dense(3, 1), View.Dense(1, n), sub);
        // a scalar against everything, and explicit stride-0 (expanded) views
        CheckBinary<double, double, Subtract<double>>(y, View.Dense(), View.Dense(3, n), (a, b) => a - b);
        CheckBinary<double, double, Subtract<double>>(y, new View([3, n], [0, 1]), new View([3, n], [1, 0]), (a, b) => a - b);
        CheckBinary<int, byte, Greater<int>>(y, View.Dense(3, 1), View.Dense(n), (a, b) => a > b ? (byte)1 : (byte)0);
        CheckUnary<float, float, Negate<float>>(y, View.Dense(n), x => -x);
        CheckUnary<float, float, Negate<float>>(y, View.Dense(3, 1), x => -x);
    }

    [Fact]
    public void Transposed_and_offset_views()
    {
        foreach (var (r, c) in new[] { (2, 3), (5, 7), (17, 9), (64, 3), (3, 130) })
        {
            var rowMajor = View.Dense(r, c);
            var transposed = new View([r, c], [1, r]);        // a [c, r] buffer read as its transpose
            var offset = new View([r, c], [c + 4, 1], 11);     // rows padded, starting at 11
            CheckBinary<float, float, Subtract<float>>(rowMajor, transposed, offset, (a, b) => a - b);
            CheckBinary<float, float, Subtract<float>>(transposed, offset, rowMajor, (a, b) => a - b);
            CheckBinary<long, long, Multiply<long>>(offset, transposed, transposed, (a, b) => a * b);
            CheckUnary<double, double, Negate<double>>(transposed, offset, x => -x);
        }
    }

    [Fact]
    public void Scalars_and_empty_shapes()
    {
        CheckBinary<float, float, Subtract<float>>(View.Dense(), View.Dense(), View.Dense(), (a, b) => a - b);
        CheckUnary<float, float, Negate<float>>(View.Dense(), View.Dense(), x => -x);
        CheckBinary<float, float, Subtract<float>>(View.Dense(1, 1, 1), View.Dense(1), View.Dense(), (a, b) => a - b);
        foreach (var shape in new[] { new[] { 0 }, [3, 0], [0, 4], [2, 0, 5] })
        {
            CheckBinary<float, float, Subtract<float>>(View.Dense(shape), View.Dense(shape), View.Dense(shape[^1]), (a, b) => a - b);
            CheckUnary<float, float, Negate<float>>(View.Dense(shape), View.Dense(shape), x => -x);
        }
    }

    [Fact]
    public void Random_layouts_match_the_naive_loop()
    {
        var rng = new Random(2024);
        for (int trial = 0; trial < 300; trial++)
        {
            int rank = rng.Next(0, 5);
            var shape = new int[rank];
            for (int i = 0; i < rank; i++) shape[i] = rng.Next(0, 8) switch { 0 => 1, 1 => rng.Next(20, 70), _ => rng.Next(1, 6) };
            var y = RandomView(rng, shape, broadcast: false);
            var a = RandomView(rng, shape, broadcast: true);
            var b = RandomView(rng, shape, broadcast: true);
            CheckBinary<float, float, Subtract<float>>(y, a, b, (p, q) => p - q, trial);
            CheckBinary<double, double, Multiply<double>>(y, a, b, (p, q) => p * q, trial);
            CheckUnary<int, int, Negate<int>>(y, a, x => -x, trial);
        }
    }

    /// <summary>
    /// A view of <paramref name="shape"/> with a random dimension order, padding and offset; with
    /// <paramref name="broadcast"/>, some leading dimensions are dropped and some sizes are 1.
    /// </summary>
    private static View RandomView(Random rng, int[] shape, bool broadcast)
    {
        var dims = (int[])shape.Clone();
        int drop = broadcast && dims.Length > 0 ? rng.Next(0, dims.Length + 1) / 2 : 0;
        dims = dims[drop..];
        if (broadcast)
            for (int i = 0; i < dims.Length; i++) if (rng.Next(4) == 0) dims[i] = 1;
        // Lay the dimensions out in a random order, each with a little padding.
        var order = Enumerable.Range(0, dims.Length).OrderBy(_ => rng.Next()).ToArray();
        var strides = new int[dims.Length];
        int step = 1;
        foreach (var d in order.Reverse())
        {
            strides[d] = step * (rng.Next(3) == 0 ? 2 : 1);
            step = strides[d] * Math.Max(dims[d], 1);
        }
        return new View(dims, strides, rng.Next(0, 4));
    }

    [Fact]
    public void Isa_restrictions_of_a_rerun_are_in_effect()
    {
        // In the parent run nothing is restricted and this only records the tier; IsaRerunTests sets
        // these variables for its child runs, where this proves the restriction took hold.
        if (Environment.GetEnvironmentVariable("DOTNET_EnableHWIntrinsic") == "0")
        {
            Assert.False(Vector128.IsHardwareAccelerated);
            Assert.False(Vector256.IsHardwareAccelerated);
        }
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX2") == "0")
        {
            Assert.False(Avx2.IsSupported);
            Assert.False(Vector256.IsHardwareAccelerated);
        }
        // .NET 10 reads DOTNET_EnableAVX512 (one switch for AVX-512 F/BW/CD/DQ/VL); the older
        // DOTNET_EnableAVX512F is ignored there, so the rerun sets the new one.
        if (Environment.GetEnvironmentVariable("DOTNET_EnableAVX512") == "0")
        {
            Assert.False(Avx512F.IsSupported);
            Assert.False(Vector512.IsHardwareAccelerated);
        }
    }
}
