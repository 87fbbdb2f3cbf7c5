using System.Runtime.Intrinsics.X86;
using System.Text;
using Kiln.IO;

namespace Kiln.Tests.IO.TensorBoard;

public sealed class ChecksumTests
{
    private static readonly byte[] CheckInput = Encoding.ASCII.GetBytes("123456789");

    [Fact]
    public void Crc32C_gives_the_standard_check_value_on_every_path()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(CheckInput));
        Assert.Equal(0xE3069283u, Crc32C.ComputeScalar(CheckInput));
        if (Sse42.X64.IsSupported) Assert.Equal(0xE3069283u, Crc32C.ComputeSse42(CheckInput));
        Assert.Equal(0u, Crc32C.Compute([]));
    }

    [Fact]
    public void Crc32C_hardware_and_table_paths_agree_on_every_length_and_offset()
    {
        var random = new Random(20240611);
        var data = new byte[300];
        random.NextBytes(data);
        for (int offset = 0; offset < 8; offset++)
        {
            for (int length = 0; length <= 257; length++)
            {
                var span = data.AsSpan(offset, length);
                uint scalar = Crc32C.ComputeScalar(span);
                Assert.Equal(TestEventReader.MaskedCrc32C(span), Crc32C.Mask(scalar));
                if (Sse42.X64.IsSupported) Assert.Equal(scalar, Crc32C.ComputeSse42(span));
                Assert.Equal(scalar, Crc32C.Compute(span));
            }
        }
    }

    [Fact]
    public void Crc32C_mask_rotates_right_by_15_and_adds_the_tfrecord_constant()
    {
        Assert.Equal(0xA282EAD8u, Crc32C.Mask(0));
        Assert.Equal(unchecked((1u << 17) + 0xA282EAD8u), Crc32C.Mask(1));
        Assert.Equal(unchecked(((0xE3069283u >> 15) | (0xE3069283u << 17)) + 0xA282EAD8u), Crc32C.ComputeMasked(CheckInput));
    }

    [Fact]
    public void Crc32_gives_the_standard_check_value_and_appends_in_pieces()
    {
        Assert.Equal(0xCBF43926u, Crc32.Compute(CheckInput));
        uint running = Crc32.Append(Crc32.Append(Crc32.Start, CheckInput.AsSpan(0, 4)), CheckInput.AsSpan(4));
        Assert.Equal(0xCBF43926u, Crc32.Finish(running));
        var random = new Random(7);
        var data = new byte[129];
        random.NextBytes(data);
        Assert.Equal(TestPngDecoder.Crc32(data), Crc32.Compute(data));
    }
}
