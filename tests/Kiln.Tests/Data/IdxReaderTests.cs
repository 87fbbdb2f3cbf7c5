using Kiln.Data;

namespace Kiln.Tests.Data;

public sealed class IdxReaderTests
{
    private static readonly byte[] Data24 = Enumerable.Range(0, 24).Select(i => (byte)(i * 11)).ToArray();

    private static KilnFormatException Refused(IdxFiles files, string name, byte[] bytes, bool gzip = true, int magic = IdxReader.ImagesMagic)
    {
        var path = files.Write(name, bytes, gzip);
        var e = Assert.Throws<KilnFormatException>(() => IdxReader.Read(path, magic));
        Assert.Contains(name, e.Message);
        return e;
    }

    [Fact]
    public void IdxReader_round_trips_a_gzip_file_it_did_not_write()
    {
        using var files = new IdxFiles();
        var path = files.Write("a.gz", IdxFiles.Bytes(0x803, [2, 3, 4], Data24));
        using var array = IdxReader.Read(path, IdxReader.ImagesMagic);
        Assert.Equal(new Shape(2, 3, 4), array.Shape);
        Assert.Equal(DType.UInt8, array.DType);
        Assert.Equal(Data24, array.ToArray<byte>());
    }

    [Fact]
    public void IdxReader_reads_a_plain_file_and_a_labels_file()
    {
        using var files = new IdxFiles();
        using var images = IdxReader.Read(files.Write("images", IdxFiles.Bytes(0x803, [1, 4, 6], Data24), gzip: false), IdxReader.ImagesMagic);
        Assert.Equal(new Shape(1, 4, 6), images.Shape);
        Assert.Equal(Data24, images.ToArray<byte>());
        using var labels = IdxReader.Read(files.Write("labels.gz", IdxFiles.Bytes(0x801, [5], [9, 0, 3, 3, 1])), IdxReader.LabelsMagic);
        Assert.Equal(new Shape(5), labels.Shape);
        Assert.Equal(new byte[] { 9, 0, 3, 3, 1 }, labels.ToArray<byte>());
    }

    [Fact]
    public void IdxReader_reads_an_empty_array()
    {
        using var files = new IdxFiles();
        using var array = IdxReader.Read(files.Write("empty.gz", IdxFiles.Bytes(0x801, [0], [])), IdxReader.LabelsMagic);
        Assert.Equal(new Shape(0), array.Shape);
        Assert.Empty(array.ToArray<byte>());
    }

    [Fact]
    public void IdxReader_refuses_a_bad_magic()
    {
        using var files = new IdxFiles();
        Assert.Contains("bad magic 0x00000801", Refused(files, "labels-as-images.gz", IdxFiles.Bytes(0x801, [24], Data24)).Message);
        Assert.Contains("bad magic 0x00000D03", Refused(files, "floats.gz", IdxFiles.Bytes(0xD03, [2, 3, 1], Data24)).Message);
        Assert.Contains("bad magic 0x504B0304", Refused(files, "zip.gz", [0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0]).Message);
    }

    [Fact]
    public void IdxReader_refuses_a_truncated_header()
    {
        using var files = new IdxFiles();
        Assert.Contains("truncated header", Refused(files, "empty.gz", []).Message);
        Assert.Contains("truncated header", Refused(files, "two-bytes", [0, 0], gzip: false).Message);
        var magicAndOneDim = IdxFiles.Bytes(0x803, [2, 3, 4], Data24)[..8];
        Assert.Contains("ends inside dimension 1 of 3", Refused(files, "one-dim.gz", magicAndOneDim).Message);
    }

    [Fact]
    public void IdxReader_refuses_truncated_data()
    {
        using var files = new IdxFiles();
        var whole = IdxFiles.Bytes(0x803, [2, 3, 4], Data24);
        var e = Refused(files, "short.gz", whole[..^5]);
        Assert.Contains("truncated", e.Message);
        Assert.Contains("claims 24 bytes of data, the file holds 19", e.Message);
        Refused(files, "short-plain", whole[..^1], gzip: false);
    }

    [Fact]
    public void IdxReader_refuses_data_past_what_the_header_claims()
    {
        using var files = new IdxFiles();
        var e = Refused(files, "long.gz", IdxFiles.Bytes(0x803, [2, 3, 3], Data24));
        Assert.Contains("data continues past the 18 bytes", e.Message);
    }

    [Fact]
    public void IdxReader_refuses_dims_that_claim_more_than_the_file_holds_without_allocating_them()
    {
        using var files = new IdxFiles();
        // The header claims 60000 x 28 x 28 = 47 MB; the file holds 24 bytes.
        var path = files.Write("liar.gz", IdxFiles.Bytes(0x803, [60000, 28, 28], Data24));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<KilnFormatException>(() => IdxReader.Read(path, IdxReader.ImagesMagic));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("claims 47040000 bytes of data, the file holds 24", e.Message);
        Assert.True(allocated < 4 << 20, $"reading a 24-byte file allocated {allocated} bytes");
    }

    [Fact]
    public void IdxReader_refuses_absurd_dims()
    {
        using var files = new IdxFiles();
        Assert.Contains("claim more than 1073741824 bytes", Refused(files, "huge.gz", IdxFiles.Bytes(0x803, [1 << 16, 1 << 16, 1 << 8], Data24)).Message);
        Assert.Contains("dimension 0 is -1", Refused(files, "negative.gz", IdxFiles.Bytes(0x803, [-1, 28, 28], Data24)).Message);
        Assert.Contains("dimension 2 is 2147483647", Refused(files, "max.gz", IdxFiles.Bytes(0x803, [1, 1, int.MaxValue], Data24)).Message);
    }

    [Fact]
    public void IdxReader_refuses_corrupt_gzip()
    {
        using var files = new IdxFiles();
        var gz = IdxFiles.Gzip(IdxFiles.Bytes(0x803, [2, 3, 4], Data24));
        for (int i = 10; i < gz.Length; i++) gz[i] ^= 0x5A;
        var e = Refused(files, "corrupt.gz", gz, gzip: false);
        Assert.Contains("gzip", e.Message);
    }

    [Fact]
    public void IdxReader_reads_the_data_straight_into_the_tensor_without_a_managed_copy()
    {
        using var files = new IdxFiles();
        var (pixels, _) = IdxFiles.Split(2000, seed: 5);
        var gz = files.Write("images.gz", IdxFiles.Bytes(0x803, [2000, 28, 28], pixels));
        var plain = files.Write("images", IdxFiles.Bytes(0x803, [2000, 28, 28], pixels), gzip: false);
        foreach (var path in new[] { gz, plain })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            using var images = IdxReader.Read(path, IdxReader.ImagesMagic);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < pixels.Length / 4, $"reading {pixels.Length} bytes of data from {path} allocated {allocated} managed bytes");
            Assert.Equal(new Shape(2000, 28, 28), images.Shape);
            Assert.Equal(pixels, images.ToArray<byte>());
        }
    }

    [Fact]
    public void IdxReader_reads_a_gzip_file_of_several_members()
    {
        // Concatenated gzip members are one valid gzip file; its trailer records only the last member's length.
        using var files = new IdxFiles();
        var whole = IdxFiles.Bytes(0x803, [2, 3, 4], Data24);
        var path = files.Write("members.gz", [.. IdxFiles.Gzip(whole[..10]), .. IdxFiles.Gzip(whole[10..])], gzip: false);
        using var array = IdxReader.Read(path, IdxReader.ImagesMagic);
        Assert.Equal(new Shape(2, 3, 4), array.Shape);
        Assert.Equal(Data24, array.ToArray<byte>());
    }

    [Fact]
    public void IdxReader_refuses_a_plain_file_whose_length_disagrees_with_its_header()
    {
        using var files = new IdxFiles();
        var whole = IdxFiles.Bytes(0x803, [2, 3, 4], Data24);
        Assert.Contains("claims 24 bytes of data, the file holds 21", Refused(files, "short-plain", whole[..^3], gzip: false).Message);
        Assert.Contains("data continues past the 24 bytes", Refused(files, "long-plain", [.. whole, 7], gzip: false).Message);
    }

    [Fact]
    public void IdxReader_refuses_a_gzip_file_whose_trailer_agrees_with_a_lying_header()
    {
        // The trailer's length is only a hint: a header claiming 47 MB over 24 bytes is refused even when
        // the trailer was forged to agree with it.
        using var files = new IdxFiles();
        var gz = IdxFiles.Gzip(IdxFiles.Bytes(0x803, [60000, 28, 28], Data24));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(gz.AsSpan(gz.Length - 4), 16 + 60000 * 28 * 28);
        var e = Refused(files, "forged.gz", gz, gzip: false);
        Assert.True(e.Message.Contains("corrupt") || e.Message.Contains("truncated"), e.Message);
    }
}
