using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>The Where select kernel on every element size and length from 0 to 257, and the strided loops that drive it.</summary>
public sealed class ElementwiseWhereKernelTests
{
    private const int MaxLength = 257;

    private static void Check<T>(Func<Random, T> value) where T : unmanaged
    {
        for (int n = 0; n <= MaxLength; n++)
        {
            var rng = new Random(n);
            var c = new byte[n];
            var a = new T[n];
            var b = new T[n];
            for (int i = 0; i < n; i++)
            {
                // Any non-zero byte counts as true, not only 1.
                c[i] = (byte)(rng.Next(3) switch { 0 => 0, 1 => 1, _ => rng.Next(1, 256) });
                a[i] = value(rng);
                b[i] = value(rng);
            }
            var d = new T[n];
            WhereOperator<T>.Invoke(c, a, b, d);
            for (int i = 0; i < n; i++) Assert.Equal(c[i] != 0 ? a[i] : b[i], d[i]);
        }
    }

    [Fact] public void Where_kernel_on_bytes_matches_a_scalar_loop() => Check(r => (byte)r.Next(256));
    [Fact] public void Where_kernel_on_4_byte_elements_matches_a_scalar_loop() => Check(r => (uint)r.NextInt64(uint.MaxValue));
    [Fact] public void Where_kernel_on_8_byte_elements_matches_a_scalar_loop() => Check(r => (ulong)r.NextInt64());

    [Fact]
    public void Where_kernel_moves_nan_payloads_and_negative_zero_bit_for_bit()
    {
        uint payload = 0x7FC01234, negativeZero = 0x80000000;
        var c = new byte[19];
        var a = new uint[19];
        var b = new uint[19];
        for (int i = 0; i < c.Length; i++) { c[i] = (byte)(i % 2); a[i] = payload; b[i] = negativeZero; }
        var d = new uint[19];
        WhereOperator<uint>.Invoke(c, a, b, d);
        for (int i = 0; i < d.Length; i++) Assert.Equal(i % 2 == 1 ? payload : negativeZero, d[i]);
    }

    [Theory]
    [InlineData(3, 5)]
    [InlineData(2, 1100)]
    [InlineData(1, 1)]
    [InlineData(4, 0)]
    public unsafe void Ternary_loop_handles_broadcast_and_strided_operands(int rows, int cols)
    {
        // Output [rows, cols] contiguous; condition [rows, 1] broadcast along rows; a [cols] broadcast down
        // columns; b [rows, cols] read with a stride of 2 from a buffer twice as large.
        var rng = new Random(rows * 1000 + cols);
        var c = new byte[Math.Max(rows, 1)];
        var a = new double[Math.Max(cols, 1)];
        var b = new double[Math.Max(rows * cols * 2, 1)];
        for (int i = 0; i < c.Length; i++) c[i] = (byte)rng.Next(2);
        for (int i = 0; i < a.Length; i++) a[i] = rng.NextDouble();
        for (int i = 0; i < b.Length; i++) b[i] = -rng.NextDouble();
        var y = new double[Math.Max(rows * cols, 1)];
        var layout = StridedLayout.Create([rows, cols], [cols, 1], ([rows, 1], [1, 1]), ([cols], [1]), ([rows, cols], [cols * 2, 2]));
        fixed (byte* pc = c)
        fixed (double* pa = a, pb = b, py = y)
            ElementwiseLoop.Ternary<byte, ulong, ulong, WhereOperator<ulong>>(layout, pc, (ulong*)pa, (ulong*)pb, (ulong*)py);
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++)
                Assert.Equal(c[r] != 0 ? a[k] : b[(r * cols + k) * 2], y[r * cols + k]);
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(2, 1030)]
    public unsafe void Unary_loop_with_an_operator_value_handles_strided_input_and_output(int rows, int cols)
    {
        // Input [rows, cols] read transposed from a [cols, rows] buffer; output written with a stride of 3.
        var rng = new Random(rows + cols);
        var x = new float[rows * cols];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 4 - 2);
        var y = new float[rows * cols * 3];
        var layout = StridedLayout.Create([rows, cols], [cols * 3, 3], ([rows, cols], [1, rows]));
        fixed (float* px = x, py = y)
            ElementwiseLoop.Unary(layout, px, py, new LeakyReluOperator<float>(0.25f));
        for (int r = 0; r < rows; r++)
            for (int k = 0; k < cols; k++)
            {
                float v = x[k * rows + r];
                Assert.Equal(v > 0 ? v : 0.25f * v, y[(r * cols + k) * 3]);
                Assert.Equal(0f, y[(r * cols + k) * 3 + 1]);
            }
    }
}
