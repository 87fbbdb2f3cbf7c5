namespace Kiln.Data;

/// <summary>
/// Fashion-MNIST (Zalando): 28x28 grayscale images of clothing in 10 classes, 60,000 for training and
/// 10,000 for testing. The whole splits are tensors (<see cref="TrainPixels"/>: uint8 [N, 1, 28, 28] as
/// stored, <see cref="TrainImages"/>: float32 in [0, 1]; labels int64 [N]); <see cref="Train"/> and <see cref="Test"/> give them item by item, with
/// transforms, for a <see cref="DataLoader"/>. Dispose it to give the memory back at once.
/// </summary>
public sealed class FashionMnist : IDisposable
{
    /// <summary>The subdirectory name looked for under a data root and in ~/.cache/kiln.</summary>
    public const string DirectoryName = "fashion-mnist";

    /// <summary>Where Debian's package <c>dataset-fashion-mnist</c> installs the files.</summary>
    public const string SystemDirectory = LocatorOptions.DebianRoot + "/" + DirectoryName;

    /// <summary>The class names, indexed by label.</summary>
    public static IReadOnlyList<string> Classes { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>The files as Zalando publishes them; sizes and SHA-256 as TensorFlow Datasets records them.</summary>
    internal static readonly DatasetSource Source = new(
        "Fashion-MNIST", DirectoryName,
        ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        [
            new("train-images-idx3-ubyte.gz", 26421880, "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
            new("train-labels-idx1-ubyte.gz", 29515, "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
            new("t10k-images-idx3-ubyte.gz", 4422102, "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            new("t10k-labels-idx1-ubyte.gz", 5148, "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ],
        MnistFormat.Needs + " On Debian or Ubuntu install it with: sudo apt-get install dataset-fashion-mnist");

    private readonly ImageData _data;

    private FashionMnist(ImageData data) => _data = data;

    /// <summary>
    /// Reads Fashion-MNIST from the first directory that holds its four IDX files (gzip'd or plain):
    /// <paramref name="root"/> and root/fashion-mnist, then $KILN_DATA/fashion-mnist, then
    /// ~/.cache/kiln/fashion-mnist, then /usr/share/datasets/fashion-mnist (<c>apt-get install dataset-fashion-mnist</c>);
    /// failing those, and when <paramref name="download"/>, downloads them from Zalando's server into
    /// ~/.cache/kiln/fashion-mnist, checking each file's SHA-256. Throws <see cref="KilnException"/> listing
    /// every place searched and the download error when all fail, and <see cref="KilnFormatException"/> when
    /// a file is malformed.
    /// </summary>
    public static FashionMnist Load(string? root = null, bool download = true) => Load(root, LocatorOptions.ForProcess(download));

    internal static FashionMnist Load(string? root, LocatorOptions options)
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
