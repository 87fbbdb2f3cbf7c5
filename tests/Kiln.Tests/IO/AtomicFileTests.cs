using Kiln.IO;

namespace Kiln.Tests.IO;

public sealed class AtomicFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Target => System.IO.Path.Combine(_dir, "weights.safetensors");

    private string[] FileNames() => Directory.GetFiles(_dir).Select(f => System.IO.Path.GetFileName(f)!).Order().ToArray();

    [Fact]
    public void AtomicFile_replaces_the_target_and_leaves_no_temporary_file()
    {
        File.WriteAllBytes(Target, [1, 2, 3]);
        AtomicFile.Write(Target, s => s.Write([9, 8]));
        Assert.Equal(new byte[] { 9, 8 }, File.ReadAllBytes(Target));
        Assert.Equal(["weights.safetensors"], FileNames());
    }

    [Fact]
    public void AtomicFile_keeps_the_old_file_when_writing_throws_midway()
    {
        File.WriteAllBytes(Target, [1, 2, 3]);
        var e = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(Target, s =>
        {
            s.Write(new byte[100_000]);
            throw new InvalidOperationException("disk full");
        }));
        Assert.Equal("disk full", e.Message);
        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(Target));
        Assert.Equal(["weights.safetensors"], FileNames());
    }

    [Fact]
    public void AtomicFile_creates_nothing_when_the_first_write_fails()
    {
        Assert.Throws<IOException>(() => AtomicFile.Write(Target, _ => throw new IOException("no space")));
        Assert.Empty(FileNames());
    }

    [Fact]
    public void AtomicFile_refuses_a_directory_as_the_target()
    {
        var sub = Directory.CreateDirectory(System.IO.Path.Combine(_dir, "sub")).FullName;
        Assert.Throws<IOException>(() => AtomicFile.Write(sub, s => s.WriteByte(1)));
        Assert.Empty(FileNames());
        Assert.True(Directory.Exists(sub));
    }

    [Fact]
    public void Safetensors_save_with_a_disposed_tensor_keeps_the_old_file()
    {
        using var good = Tensor.From([1f, 2f], 2);
        Safetensors.Save(Target, [new("w", good)]);
        var before = File.ReadAllBytes(Target);
        var disposed = Tensor.From([3f], 1);
        disposed.Dispose();

        Assert.Throws<ArgumentException>(() => Safetensors.Save(Target, [new("w", good), new("gone", disposed)]));

        Assert.Equal(before, File.ReadAllBytes(Target));
        Assert.Equal(["weights.safetensors"], FileNames());
    }

    [Fact]
    public void Safetensors_save_keeps_the_old_file_when_the_tensors_fail_midway()
    {
        using var good = Tensor.From([1f, 2f], 2);
        Safetensors.Save(Target, [new("w", good)]);
        var before = File.ReadAllBytes(Target);

        // The sequence fails after yielding a tensor, as a lazy producer of a state dict might.
        Assert.Throws<InvalidOperationException>(() => Safetensors.Save(Target, Failing(good)));

        Assert.Equal(before, File.ReadAllBytes(Target));
        Assert.Equal(["weights.safetensors"], FileNames());

        static IEnumerable<KeyValuePair<string, Tensor>> Failing(Tensor t)
        {
            yield return new("w", t);
            throw new InvalidOperationException("producer failed");
        }
    }

    [Fact]
    public void Safetensors_write_passes_on_a_stream_failure()
    {
        using var big = Tensor.Zeros([4096]);
        var stream = new FailingStream(failAfter: 1000);
        Assert.Throws<IOException>(() => Safetensors.Write(stream, [new("big", big)]));
    }

    private sealed class FailingStream(int failAfter) : MemoryStream
    {
        // A MemoryStream subclass routes span writes through this overload.
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Length + count > failAfter) throw new IOException("device error");
            base.Write(buffer, offset, count);
        }
    }
}
