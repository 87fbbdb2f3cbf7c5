namespace Kiln.Data;

/// <summary>
/// CIFAR-10 (Krizhevsky): 32x32 colour images in 10 classes, 50,000 for training and 10,000 for testing,
/// read from its binary version. The whole splits are tensors (<see cref="TrainPixels"/>: uint8
/// [N, 3, 32, 32] as stored, <see cref="TrainImages"/>: float32 in [0, 1]; labels int64 [N]); <see cref="Train"/> and <see cref="Test"/> give them item by
/// item, with transforms, for a <see cref="DataLoader"/>. Dispose it to give the memory back at once.
/// </summary>
public sealed class Cifar10 : IDisposable
{
    /// <summary>The subdirectory name looked for under a data root and in ~/.cache/kiln.</summary>
    public const string DirectoryName = "cifar-10";

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>The binary archive on its author's page; size and SHA-256 as TensorFlow Datasets records them.</summary>
    internal static readonly DatasetSource Source = new(
        "CIFAR-10", DirectoryName,
        ["https://www.cs.toronto.edu/~kriz/"],
        [new(CifarFormat.ArchiveName, 170052171, "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd")],
        CifarFormat.Needs + " No distribution package is known for CIFAR-10: copy the archive into one of these directories, or allow the download.");

    private readonly ImageData _data;

    private Cifar10(ImageData data) => _data = data;

    /// <summary>
    /// Reads CIFAR-10 (binary version) from <paramref name="root"/> when it is the cifar-10-binary.tar.gz
    /// archive itself, else from the first directory holding the extracted cifar-10-batches-bin folder (or
    /// its files) or the archive: root and root/cifar-10, then $KILN_DATA/cifar-10, ~/.cache/kiln/cifar-10,
    /// /usr/share/datasets/cifar-10; failing those, and when <paramref name="download"/>, downloads the
    /// archive (163 MiB) into ~/.cache/kiln/cifar-10, checking its SHA-256. The archive is read as it is,
    /// without extracting it. Throws <see cref="KilnException"/> listing every place searched and the
    /// download error when all fail, and <see cref="KilnFormatException"/> when a file is malformed.
    /// </summary>
    public static Cifar10 Load(string? root = null, bool download = true) => Load(root, LocatorOptions.ForProcess(download));

    internal static Cifar10 Load(string? root, LocatorOptions options)
    {
        var copy = root is not null && File.Exists(root)
            ? new CifarCopy(root, IsArchive: true)
            : DatasetLocator.Locate(Source, root, options, CifarFormat.Probe);
        return new(CifarFormat.Read(copy));
    }

    /// <summary>The folder or archive the data was read from.</summary>
    public string Directory => _data.Directory;

    /// <summary>
    /// Training images as stored, uint8 [50000, 3, 32, 32] (0..255; torchvision's <c>dataset.data</c>): a quarter
    /// of <see cref="TrainImages"/>'s memory. Gather batches of these (<c>new TensorDataset(TrainPixels, TrainLabels)</c>)
    /// and convert each batch with <c>new ToTensor(ImageLayout.Chw)</c>, which gives exactly the values of
    /// <see cref="TrainImages"/>.
    /// </summary>
    public Tensor TrainPixels => _data.TrainImages;

    /// <summary>
    /// Training images, float32 [50000, 3, 32, 32] in [0, 1] (byte / 255), made on first use and then kept
    /// (four times <see cref="TrainPixels"/>'s memory) until this object is disposed.
    /// </summary>
    public Tensor TrainImages => _data.TrainFloat;

    /// <summary>Training labels, int64 [50000] in 0..9.</summary>
    public Tensor TrainLabels => _data.TrainLabels;

    /// <summary>Test images as stored, uint8 [10000, 3, 32, 32] (0..255), as <see cref="TrainPixels"/>.</summary>
    public Tensor TestPixels => _data.TestImages;

    /// <summary>Test images, float32 [10000, 3, 32, 32] in [0, 1], made on first use and then kept, as <see cref="TrainImages"/>.</summary>
    public Tensor TestImages => _data.TestFloat;

    /// <summary>Test labels, int64 [10000] in 0..9.</summary>
    public Tensor TestLabels => _data.TestLabels;

    /// <summary>
    /// The training split item by item: each image a uint8 [32, 32, 3] (height, width, channel) view, each
    /// label an int64 scalar, passed through <paramref name="transform"/> and <paramref name="targetTransform"/>
    /// (e.g. <c>new ToTensor()</c> for float32 [3, 32, 32] in [0, 1]). Valid until this object is disposed.
    /// </summary>
    public Dataset<Example> Train(Transform? transform = null, Transform? targetTransform = null) => _data.View(true, transform, targetTransform);

    /// <summary>The test split item by item, as <see cref="Train"/> gives the training split.</summary>
    public Dataset<Example> Test(Transform? transform = null, Transform? targetTransform = null) => _data.View(false, transform, targetTransform);

    /// <summary>Disposes the tensors.</summary>
    public void Dispose() => _data.Dispose();
}
