namespace Kiln.Data;

/// <summary>
/// Reads datasets laid out as MNIST is (Fashion-MNIST, MNIST): four IDX files of unsigned bytes, gzip'd
/// or plain, holding 28x28 images and labels 0..9 for a training and a test split.
/// </summary>
internal static class MnistFormat
{
    internal const int Side = 28;
    internal const int Classes = 10;

    internal static readonly string[] FileNames =
        ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>What every place needs, for the not-found message.</summary>
    internal static string Needs => $"Each place needs the files {string.Join(", ", FileNames.Select(f => f + ".gz"))} (gzip'd or plain).";

    /// <summary>The four file paths in <paramref name="directory"/>, or null with what is missing.</summary>
    internal static (string[]? Found, string Missing) Probe(string directory)
    {
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
        return absent.Count == 0 ? (paths, "") : (null, "lacks " + string.Join(", ", absent));
    }

    /// <summary>Reads the training and test splits from the four <paramref name="paths"/> found in <paramref name="directory"/>.</summary>
    internal static ImageData Read(string directory, string[] paths)
    {
        var (trainImages, trainLabels) = ReadSplit(paths[0], paths[1]);
        try
        {
            var (testImages, testLabels) = ReadSplit(paths[2], paths[3]);
            return new ImageData(directory, trainImages, trainLabels, testImages, testLabels);
        }
        catch
        {
            trainImages.Dispose();
            trainLabels.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Images as uint8 [N, 1, 28, 28] (the file's data itself, not a copy), labels as int64 [N]; every size
    /// and label checked first. Both out of every scope.
    /// </summary>
    internal static (Tensor Images, Tensor Labels) ReadSplit(string imagesPath, string labelsPath)
    {
        using var images = IdxReader.Read(imagesPath, IdxReader.ImagesMagic);
        using var labels = IdxReader.Read(labelsPath, IdxReader.LabelsMagic);
        int n = images.Size(0), rows = images.Size(1), cols = images.Size(2);
        if (rows != Side || cols != Side)
            throw new KilnFormatException($"{imagesPath}: images are {rows} x {cols}, expected {Side} x {Side}");
        if (labels.Size(0) != n)
            throw new KilnFormatException($"{labelsPath}: {labels.Size(0)} labels for the {n} images of {imagesPath}");
        var classes = labels.Span<byte>();
        for (int i = 0; i < n; i++)
            if (classes[i] >= Classes)
                throw new KilnFormatException($"{labelsPath}: label {classes[i]} at index {i} is outside 0..{Classes - 1}");
        return (images.Reshape(n, 1, Side, Side).DetachFromScope(), ImageData.Labels(classes, n));
    }
}
