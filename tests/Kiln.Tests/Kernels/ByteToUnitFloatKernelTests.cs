using Kiln.Data;
using Kiln.Kernels.Cpu;

namespace Kiln.Tests.Kernels;

/// <summary>The one-pass byte conversion gives division's bits for every byte value, and ToTensor's batches the two-op path's bits.</summary>
public sealed unsafe class ByteToUnitFloatKernelTests
{
    [Fact]
    public void Every_byte_value_converts_to_exactly_its_quotient_by_255()
    {
        var bytes = new byte[256 + 5];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i % 256);
        var floats = new float[bytes.Length];
        fixed (byte* b = bytes)
        fixed (float* f = floats)
            ByteToUnitFloatKernel.Convert(b, f, bytes.Length);
        for (int i = 0; i < bytes.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(bytes[i] / 255f) == BitConverter.SingleToInt32Bits(floats[i]), $"byte {bytes[i]}: {floats[i]:R}, expected {bytes[i] / 255f:R}");
    }

    [Fact]
    public void ToTensor_of_a_contiguous_batch_has_the_bits_of_converting_then_dividing()
    {
        var bytes = new byte[3 * 1 * 5 * 7];
        new Random(4).NextBytes(bytes);
        using var batch = Tensor.From<byte>(bytes, [3, 1, 5, 7]);
        using var converted = new ToTensor(ImageLayout.Chw).Apply(batch);
        using var floats = batch.To(DType.Float32);
        using var expected = floats / 255.0;
        Assert.Equal(new[] { 3, 1, 5, 7 }, converted.ShapeArray);
        Assert.Equal(DType.Float32, converted.DType);
        Assert.Equal(expected.ToArray<float>(), converted.ToArray<float>());
    }
}
