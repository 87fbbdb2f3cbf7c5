using Kiln.Data;

namespace Kiln.Tests.Data;

public sealed class CsvDatasetTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kiln-csv-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string text, string name = "data.csv")
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void CsvDataset_reads_features_and_a_label_column_named_in_the_header()
    {
        var path = Write("sepal, petal ,species,width\n5.1,1.4,0,0.2\n4.9, 1.5 ,2,-3e-1\n\n6.0,4.5,1,1.5\n");
        using var data = CsvDataset.Load(path, "species");
        Assert.Equal(3, data.Count);
        Assert.Equal(["sepal", "petal", "width"], data.FeatureNames);
        Assert.Equal("species", data.LabelName);
        Assert.Equal(new Shape(3, 3), data.Features.Shape);
        Assert.Equal(new[] { 5.1f, 1.4f, 0.2f, 4.9f, 1.5f, -0.3f, 6.0f, 4.5f, 1.5f }, data.Features.ToArray<float>());
        Assert.Equal(DType.Int64, data.Labels.DType);
        Assert.Equal(new long[] { 0, 2, 1 }, data.Labels.ToArray<long>());
        var (x, y) = data[1];
        Assert.Equal(new[] { 4.9f, 1.5f, -0.3f }, x.ToArray<float>());
        Assert.Equal(2L, y.Item<long>());
        Assert.True(new DataLoader(data, batchSize: 2).GathersBatches);
    }

    [Fact]
    public void CsvDataset_takes_the_label_by_index_without_a_header_and_as_floats()
    {
        var path = Write("1;2;0.5\n3;4;1.5\n");
        using var data = CsvDataset.Load(path, labelColumn: 0, hasHeader: false, delimiter: ';', labelType: DType.Float32);
        Assert.Equal(["column 1", "column 2"], data.FeatureNames);
        Assert.Equal(new[] { 2f, 0.5f, 4f, 1.5f }, data.Features.ToArray<float>());
        Assert.Equal(new[] { 1f, 3f }, data.Labels.ToArray<float>());
        using var last = CsvDataset.Load(path, hasHeader: false, delimiter: ';', labelType: DType.Float64);
        Assert.Equal(new[] { 0.5, 1.5 }, last.Labels.ToArray<double>());
    }

    [Fact]
    public void CsvDataset_reads_quoted_fields_and_whole_number_labels_written_as_decimals()
    {
        var path = Write("\"a, first\",\"say \"\"b\"\"\",label\n\"1.5\",2,3.0\n");
        using var data = CsvDataset.Load(path, "label");
        Assert.Equal(["a, first", "say \"b\""], data.FeatureNames);
        Assert.Equal(new[] { 1.5f, 2f }, data.Features.ToArray<float>());
        Assert.Equal(new[] { 3L }, data.Labels.ToArray<long>());
    }

    [Fact]
    public void CsvDataset_errors_name_the_line_and_the_column()
    {
        var e = Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write("a,b,label\n1,2,0\n1,x2,1\n"), "label"));
        Assert.Contains("line 3, column 2 (\"b\"): \"x2\" is not a number", e.Message);
        Assert.Contains("data.csv", e.Message);

        e = Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write("a,b,label\n1,2,0\n1,2\n"), "label"));
        Assert.Contains("line 3 has 2 columns, expected 3", e.Message);

        e = Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write("a,b,label\n1,2,0.5\n"), "label"));
        Assert.Contains("line 2, column 3 (\"label\"): \"0.5\" is not a whole-number label", e.Message);

        e = Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write("1,,0\n"), hasHeader: false));
        Assert.Contains("line 1, column 2: the field is empty, expected a number", e.Message);

        e = Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write("a,b\n1,\"2\n"), hasHeader: true));
        Assert.Contains("line 2, column 2: a quoted field is not closed", e.Message);

        e = Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write("a,b,label\n"), "label"));
        Assert.Contains("no data rows after the header", e.Message);
        Assert.Throws<KilnFormatException>(() => CsvDataset.Load(Write(""), "label"));

        var missing = Assert.Throws<KilnException>(() => CsvDataset.Load(Write("a,b\n1,2\n"), "label"));
        Assert.Contains("no column named \"label\" in the header (columns: a, b)", missing.Message);
        var range = Assert.Throws<KilnException>(() => CsvDataset.Load(Write("a,b\n1,2\n"), labelColumn: 2));
        Assert.Contains("label column 2 is out of range for 2 columns", range.Message);
        Assert.Throws<ArgumentException>(() => CsvDataset.Load(Write("1,2\n"), labelType: DType.Bool));
    }

    [Fact]
    public void CsvDataset_applies_its_transform_and_then_stacks_items()
    {
        var path = Write("x,y,label\n1,2,0\n3,4,1\n");
        using var data = CsvDataset.Load(path, "label", transform: new Lambda(x => x * 2));
        var loader = new DataLoader(data, batchSize: 2);
        Assert.False(loader.GathersBatches);
        foreach (var (x, y) in loader)
        {
            Assert.Equal(new[] { 2f, 4f, 6f, 8f }, x.ToArray<float>());
            Assert.Equal(new long[] { 0, 1 }, y.ToArray<long>());
        }
    }
}
