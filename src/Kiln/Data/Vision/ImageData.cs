namespace Kiln.Data;

/// <summary>
/// The two splits of an image classification dataset as read from disk: images uint8 [N, C, H, W] and
/// labels int64 [N], out of every scope (this object owns them), plus the float32 [0, 1] copies of the
/// images made on first use for the whole-tensor API.
/// </summary>
internal sealed class ImageData : IDisposable
{
    private readonly object _gate = new();
    private Tensor? _trainFloat, _testFloat;
    private bool _disposed;

    internal ImageData(string directory, Tensor trainImages, Tensor trainLabels, Tensor testImages, Tensor testLabels)
    {
        Directory = directory;
        TrainImages = trainImages.DetachFromScope();
        TrainLabels = trainLabels.DetachFromScope();
        TestImages = testImages.DetachFromScope();
        TestLabels = testLabels.DetachFromScope();
    }

    internal string Directory { get; }
    internal Tensor TrainImages { get; }
    internal Tensor TrainLabels { get; }
    internal Tensor TestImages { get; }
    internal Tensor TestLabels { get; }

    /// <summary>An int64 [n] tensor of the bytes <paramref name="labels"/>.</summary>
    internal static Tensor Labels(ReadOnlySpan<byte> labels, int n)
    {
        var t = Tensor.Empty([n], DType.Int64).DetachFromScope();
        var dst = t.Span<long>();
        for (int i = 0; i < n; i++) dst[i] = labels[i];
        return t;
    }

    /// <summary>The training images as float32 in [0, 1] (byte / 255), made on first use.</summary>
    internal Tensor TrainFloat => Scaled(ref _trainFloat, TrainImages);

    /// <summary>The test images as float32 in [0, 1], made on first use.</summary>
    internal Tensor TestFloat => Scaled(ref _testFloat, TestImages);

    private Tensor Scaled(ref Tensor? cache, Tensor bytes)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (cache is not null) return cache;
            var floats = Tensor.Empty(bytes.ShapeArray, DType.Float32).DetachFromScope();
            var src = bytes.Span<byte>();
            var dst = floats.Span<float>();
            for (int i = 0; i < dst.Length; i++) dst[i] = src[i] / 255f;
            return cache = floats;
        }
    }

    /// <summary>A dataset view of one split (see <see cref="ImageDataset"/>).</summary>
    internal Dataset<Example> View(bool train, Transform? transform, Transform? targetTransform)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return train
            ? new ImageDataset(TrainImages, TrainLabels, transform, targetTransform)
            : new ImageDataset(TestImages, TestLabels, transform, targetTransform);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            TrainImages.Dispose();
            TrainLabels.Dispose();
            TestImages.Dispose();
            TestLabels.Dispose();
            _trainFloat?.Dispose();
            _testFloat?.Dispose();
        }
    }
}
