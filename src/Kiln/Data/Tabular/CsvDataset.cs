namespace Kiln.Data;

/// <summary>
/// A dataset read from a CSV file of numbers: each row an item whose input is its feature columns as
/// float32 [F] and whose target is its label column (int64 class indices by default, or float32/float64
/// for regression). It owns its tensors: dispose it to free them. Being a <see cref="TensorDataset"/>,
/// a <see cref="DataLoader"/> gathers its batches in one pass when no transform is given.
/// </summary>
public sealed class CsvDataset : TensorDataset, IDisposable
{
    private CsvDataset(string path, Tensor features, Tensor labels, string[] featureNames, string labelName, Transform? transform, Transform? targetTransform)
        : base(features, labels, transform, targetTransform)
    {
        Path = path;
        FeatureNames = featureNames;
        LabelName = labelName;
    }

    /// <summary>
    /// Reads <paramref name="path"/> with the label in the column named <paramref name="labelColumn"/> in the
    /// header (the first line); every other column is a feature.
    /// </summary>
    /// <exception cref="KilnFormatException">A row has the wrong number of columns or a value is not a number (the message names the line and column).</exception>
    public static CsvDataset Load(string path, string labelColumn, char delimiter = ',', DType labelType = DType.Int64,
        Transform? transform = null, Transform? targetTransform = null)
    {
        ArgumentNullException.ThrowIfNull(labelColumn);
        return Load(path, true, labelColumn, 0, delimiter, labelType, transform, targetTransform);
    }

    /// <summary>
    /// Reads <paramref name="path"/> with the label in column <paramref name="labelColumn"/> (0-based; negative
    /// counts from the end, so -1 is the last); the first line is a header when <paramref name="hasHeader"/>.
    /// </summary>
    /// <exception cref="KilnFormatException">A row has the wrong number of columns or a value is not a number (the message names the line and column).</exception>
    public static CsvDataset Load(string path, int labelColumn = -1, bool hasHeader = true, char delimiter = ',', DType labelType = DType.Int64,
        Transform? transform = null, Transform? targetTransform = null) =>
        Load(path, hasHeader, null, labelColumn, delimiter, labelType, transform, targetTransform);

    private static CsvDataset Load(string path, bool hasHeader, string? labelName, int labelIndex, char delimiter, DType labelType,
        Transform? transform, Transform? targetTransform)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (labelType is not (DType.Int64 or DType.Int32 or DType.Float32 or DType.Float64))
            throw new ArgumentException($"CsvDataset: labelType must be int64, int32, float32 or float64, not {labelType.Name()}");
        if (delimiter is '"' or '\n' or '\r') throw new ArgumentException($"CsvDataset: {(int)delimiter} cannot be the delimiter");
        var table = CsvTable.Read(path, hasHeader, labelName, labelIndex, delimiter, integerLabels: !labelType.IsFloatingPoint());
        var features = Tensor.From<float>(table.Features, table.Rows, table.FeatureCount).DetachFromScope();
        Tensor labels;
        using (var raw = Tensor.From<double>(table.Labels).DetachFromScope())
            labels = (labelType == DType.Float64 ? raw.Clone() : raw.To(labelType)).DetachFromScope();
        return new CsvDataset(path, features, labels, table.FeatureNames, table.LabelName, transform, targetTransform);
    }

    /// <summary>The file read.</summary>
    public string Path { get; }

    /// <summary>The feature columns' names from the header (or "column i"), in order.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The label column's name from the header (or "column i").</summary>
    public string LabelName { get; }

    /// <summary>The features, float32 [rows, features].</summary>
    public Tensor Features => Inputs;

    /// <summary>The labels, [rows] of the label type.</summary>
    public Tensor Labels => Targets;

    /// <summary>Disposes the tensors.</summary>
    public void Dispose()
    {
        Inputs.Dispose();
        Targets.Dispose();
    }
}
