namespace Kiln.Data;

/// <summary>
/// MNIST: 28x28 grayscale images of handwritten digits in 10 classes, 60,000 for training and
/// 10,000 for testing. Images are float32 [N, 1, 28, 28] scaled to [0, 1]; labels are int64 [N].
/// Dispose it to give the tensors' memory back at once.
/// </summary>
public sealed class Mnist : IDisposable
{
    /// <summary>The subdirectory name looked for under a data root and in ~/.cache/kiln.</summary>
    public const string DirectoryName = "mnist";

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private readonly MnistSplits _splits;

    private Mnist(MnistSplits splits) => _splits = splits;

    /// <summary>
    /// Reads MNIST from the first directory that holds its four IDX files (gzip'd or plain):
    /// <paramref name="root"/> and root/mnist, then $KILN_DATA/mnist, then ~/.cache/kiln/mnist.
    /// Throws <see cref="KilnException"/> listing every place searched when none has the files, and
    /// <see cref="KilnFormatException"/> when a file is malformed. Nothing is downloaded.
    /// </summary>
    public static Mnist Load(string? root = null) =>
        new(MnistFormat.Load("MNIST", MnistFormat.SearchPlaces(DirectoryName, root, systemDirectory: null),
            "Copy the files into one of these directories (no distribution package is known for MNIST)."));

    /// <summary>The directory the files were read from.</summary>
    public string Directory => _splits.Directory;

    /// <summary>Training images, float32 [60000, 1, 28, 28] in [0, 1].</summary>
    public Tensor TrainImages => _splits.TrainImages;

    /// <summary>Training labels, int64 [60000] in 0..9.</summary>
    public Tensor TrainLabels => _splits.TrainLabels;

    /// <summary>Test images, float32 [10000, 1, 28, 28] in [0, 1].</summary>
    public Tensor TestImages => _splits.TestImages;

    /// <summary>Test labels, int64 [10000] in 0..9.</summary>
    public Tensor TestLabels => _splits.TestLabels;

    /// <summary>Disposes the four tensors.</summary>
    public void Dispose()
    {
        _splits.TrainImages.Dispose();
        _splits.TrainLabels.Dispose();
        _splits.TestImages.Dispose();
        _splits.TestLabels.Dispose();
    }
}
