using System.Text;

namespace Kiln.Data;

/// <summary>One directory a dataset is looked for in, and why it is on the list (for the error message).</summary>
internal readonly record struct SearchPlace(string Directory, string Origin);

/// <summary>The four tensors of an MNIST-format dataset and the directory they were read from.</summary>
internal sealed record MnistSplits(string Directory, Tensor TrainImages, Tensor TrainLabels, Tensor TestImages, Tensor TestLabels);

/// <summary>
/// Finds and reads datasets laid out as MNIST is (Fashion-MNIST, MNIST): four IDX files of unsigned
/// bytes, gzip'd or plain, holding 28x28 images and labels 0..9 for a training and a test split.
/// </summary>
internal static class MnistFormat
{
    internal const int Side = 28;
    internal const int Classes = 10;

    internal static readonly string[] FileNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>
    /// The directories searched, in order: the explicit root (itself, then its subdirectory
    /// <paramref name="directoryName"/>), KILN_DATA/<paramref name="directoryName"/> (KILN_DATA is a root
    /// shared by datasets with the same file names, so only the subdirectory), ~/.cache/kiln/<paramref name="directoryName"/>,
    /// then <paramref name="systemDirectory"/> (where a distribution's package installs the data) if any.
    /// </summary>
    internal static List<SearchPlace> SearchPlaces(string directoryName, string? root, string? kilnData, string? home, string? systemDirectory)
    {
        var places = new List<SearchPlace>();
        if (root is not null)
        {
            places.Add(new(root, "the path given"));
            places.Add(new(Path.Combine(root, directoryName), "the path given"));
        }
        if (kilnData is not null)
            places.Add(new(Path.Combine(kilnData, directoryName), "KILN_DATA"));
        if (!string.IsNullOrEmpty(home))
            places.Add(new(Path.Combine(home, ".cache", "kiln", directoryName), "the user cache"));
        if (systemDirectory is not null)
            places.Add(new(systemDirectory, "the system data directory"));
        return places;
    }

    /// <summary>The places for a dataset as this process sees them (KILN_DATA, the home directory).</summary>
    internal static List<SearchPlace> SearchPlaces(string directoryName, string? root, string? systemDirectory) =>
        SearchPlaces(directoryName, root, KilnEnvironment.DataRoot,
            Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), systemDirectory);

    /// <summary>
    /// Reads the dataset from the first place that holds all four files; otherwise throws a
    /// <see cref="KilnException"/> listing every place and what it lacked, followed by <paramref name="installHint"/>.
    /// </summary>
    internal static MnistSplits Load(string title, IReadOnlyList<SearchPlace> places, string installHint)
    {
        var report = new StringBuilder();
        foreach (var place in places)
        {
            var files = Find(place.Directory, out var missing);
            if (files is not null) return Read(place.Directory, files);
            report.Append($"\n  {place.Directory} ({place.Origin}): {missing}");
        }
        if (places.Count == 0) report.Append("\n  (no place to look: no path given, KILN_DATA unset, no home directory)");
        throw new KilnException(
            $"{title} was not found. Looked in:{report}\n" +
            $"Each place needs the files {string.Join(", ", FileNames.Select(f => f + ".gz"))} (gzip'd or plain). {installHint}");
    }

    /// <summary>The four file paths in <paramref name="directory"/>, or null with what is missing.</summary>
    private static string[]? Find(string directory, out string missing)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            missing = "no such directory";
            return null;
        }
        var paths = new string[FileNames.Length];
        var absent = new List<string>();
        for (int i = 0; i < FileNames.Length; i++)
        {
            var gz = Path.Combine(directory, FileNames[i] + ".gz");
            var plain = Path.Combine(directory, FileNames[i]);
            if (File.Exists(gz)) paths[i] = gz;
            else if (File.Exists(plain)) paths[i] = plain;
            else absent.Add(FileNames[i] + ".gz");
        }
        missing = "lacks " + string.Join(", ", absent);
        return absent.Count == 0 ? paths : null;
    }

    private static MnistSplits Read(string directory, string[] paths)
    {
        var (trainImages, trainLabels) = ReadSplit(paths[0], paths[1]);
        var (testImages, testLabels) = ReadSplit(paths[2], paths[3]);
        return new MnistSplits(directory, trainImages, trainLabels, testImages, testLabels);
    }

    /// <summary>Images as float32 [N, 1, 28, 28] scaled to [0, 1] (byte / 255), labels as int64 [N].</summary>
    internal static (Tensor Images, Tensor Labels) ReadSplit(string imagesPath, string labelsPath)
    {
        var images = IdxReader.Read(imagesPath, IdxReader.ImagesMagic);
        var labels = IdxReader.Read(labelsPath, IdxReader.LabelsMagic);
        int n = images.Dims[0], rows = images.Dims[1], cols = images.Dims[2];
        if (rows != Side || cols != Side)
            throw new KilnFormatException($"{imagesPath}: images are {rows} x {cols}, expected {Side} x {Side}");
        if (labels.Dims[0] != n)
            throw new KilnFormatException($"{labelsPath}: {labels.Dims[0]} labels for the {n} images of {imagesPath}");
        var classes = labels.Data;
        for (int i = 0; i < n; i++)
            if (classes[i] >= Classes)
                throw new KilnFormatException($"{labelsPath}: label {classes[i]} at index {i} is outside 0..{Classes - 1}");

        var imageTensor = Tensor.Empty([n, 1, Side, Side], DType.Float32);
        var labelTensor = Tensor.Empty([n], DType.Int64);
        var dst = imageTensor.Span<float>();
        var src = images.Data;
        for (int i = 0; i < dst.Length; i++) dst[i] = src[i] / 255f;
        var labelDst = labelTensor.Span<long>();
        for (int i = 0; i < n; i++) labelDst[i] = classes[i];
        return (imageTensor, labelTensor);
    }
}
