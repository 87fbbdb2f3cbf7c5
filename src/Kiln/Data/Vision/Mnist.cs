namespace Kiln.Data;

/// <summary>
/// MNIST: 28x28 grayscale images of handwritten digits in 10 classes, 60,000 for training and 10,000 for
/// testing. The whole splits are tensors (<see cref="TrainPixels"/>: uint8 [N, 1, 28, 28] as stored,
/// <see cref="TrainImages"/>: float32 in [0, 1]; labels int64 [N]); <see cref="Train"/> and <see cref="Test"/> give them item by item, with transforms,
/// for a <see cref="DataLoader"/>. Dispose it to give the memory back at once.
/// </summary>
public sealed class Mnist : IDisposable
{
    /// <summary>The subdirectory name looked for under a data root and in ~/.cache/kiln.</summary>
    public const string DirectoryName = "mnist";

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    /// <summary>
    /// The original files (Yann LeCun's), served byte for byte by the CVDF mirror that TensorFlow Datasets
    /// uses and the mirror torchvision uses, tried first since the original site often refuses downloads.
    /// Sizes and SHA-256 as TensorFlow Datasets records them.
    /// </summary>
    internal static readonly DatasetSource Source = new(
        "MNIST", DirectoryName,
        ["https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"],
        [
            new("train-images-idx3-ubyte.gz", 9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
            new("train-labels-idx1-ubyte.gz", 28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
            new("t10k-images-idx3-ubyte.gz", 1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
            new("t10k-labels-idx1-ubyte.gz", 4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ],
        MnistFormat.Needs + " No distribution package is known for MNIST: copy the files into one of these directories, or allow the download.");

    private readonly ImageData _data;

    private Mnist(ImageData data) => _data = data;

    /// <summary>
    /// Reads MNIST from the first directory that holds its four IDX files (gzip'd or plain):
    /// <paramref name="root"/> and root/mnist, then $KILN_DATA/mnist, then ~/.cache/kiln/mnist, then
    /// /usr/share/datasets/mnist; failing those, and when <paramref name="download"/>, downloads them into
    /// ~/.cache/kiln/mnist, checking each file's SHA-256. Throws <see cref="KilnException"/> listing every
    /// place searched and the download error when all fail, and <see cref="KilnFormatException"/> when a
    /// file is malformed.
    /// </summary>
    public static Mnist Load(string? root = null, bool download = true) => Load(root, LocatorOptions.ForProcess(download));

    internal static Mnist Load(string? root, LocatorOptions options)
    {
        var paths = DatasetLocator.Locate(Source, root, options, MnistFormat.Probe);
        return new(MnistFormat.Read(Path.GetDirectoryName(paths[0])!, paths));
    }

    /// <summary>The directory the files were read from.</summary>
    public string Directory => _data.Directory;

    /// <summary>
    /// Training images as stored, uint8 [60000, 1, 28, 28] (0..255; torchvision's <c>dataset.data</c>): a quarter
    /// of <see cref="TrainImages"/>'s memory. Gather batches of these (<c>new TensorDataset(TrainPixels, TrainLabels)</c>)
    /// and convert each batch with <c>new ToTensor(ImageLayout.Chw)</c>, which gives exactly the values of
    /// <see cref="TrainImages"/>.
    /// </summary>
    public Tensor TrainPixels => _data.TrainImages;

    /// <summary>
    /// Training images, float32 [60000, 1, 28, 28] in [0, 1] (byte / 255), made on first use and then kept
    /// (four times <see cref="TrainPixels"/>'s memory) until this object is disposed.
    /// </summary>
    public Tensor TrainImages => _data.TrainFloat;

    /// <summary>Training labels, int64 [60000] in 0..9.</summary>
    public Tensor TrainLabels => _data.TrainLabels;

    /// <summary>Test images as stored, uint8 [10000, 1, 28, 28] (0..255), as <see cref="TrainPixels"/>.</summary>
    public Tensor TestPixels => _data.TestImages;

    /// <summary>Test images, float32 [10000, 1, 28, 28] in [0, 1], made on first use and then kept, as <see cref="TrainImages"/>.</summary>
    public Tensor TestImages => _data.TestFloat;

    /// <summary>Test labels, int64 [10000] in 0..9.</summary>
    public Tensor TestLabels => _data.TestLabels;

    /// <summary>
    /// The training split item by item: each image a uint8 [28, 28, 1] (height, width, channel) view, each
    /// label an int64 scalar, passed through <paramref name="transform"/> and <paramref name="targetTransform"/>
    /// (e.g. <c>new ToTensor()</c> for float32 [1, 28, 28] in [0, 1]). Valid until this object is disposed.
    /// </summary>
    public Dataset<Example> Train(Transform? transform = null, Transform? targetTransform = null) => _data.View(true, transform, targetTransform);

    /// <summary>The test split item by item, as <see cref="Train"/> gives the training split.</summary>
    public Dataset<Example> Test(Transform? transform = null, Transform? targetTransform = null) => _data.View(false, transform, targetTransform);

    /// <summary>Disposes the tensors.</summary>
    public void Dispose() => _data.Dispose();
}
