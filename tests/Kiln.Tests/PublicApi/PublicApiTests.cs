using System.Text;

namespace Kiln.Tests.PublicApi;

/// <summary>
/// The public API of Kiln.dll is a reviewed baseline (DESIGN.md, Tests): Kiln.PublicApi.txt beside
/// this file lists it, and any change must be accepted by regenerating that file and reviewing its diff.
/// </summary>
public sealed class PublicApiTests
{
    internal const string UpdateVariable = "KILN_UPDATE_API_BASELINE";
    private const string BaselineName = "Kiln.PublicApi.txt";

    [Fact]
    public void Public_api_matches_the_reviewed_baseline()
    {
        var actual = PublicApiListing.Lines(typeof(Tensor).Assembly);
        var path = BaselinePath();
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            File.WriteAllText(path, string.Join("\n", actual) + "\n", new UTF8Encoding(false));
            return;
        }
        Assert.True(File.Exists(path), $"no baseline at {path}; create it with: {UpdateCommand}");
        var expected = File.ReadAllLines(path).Where(l => l.Length > 0).ToList();
        var added = actual.Except(expected, StringComparer.Ordinal).ToList();
        var removed = expected.Except(actual, StringComparer.Ordinal).ToList();
        if (added.Count == 0 && removed.Count == 0) return;

        var message = new StringBuilder();
        message.AppendLine($"The public API of Kiln.dll differs from {path}.");
        if (added.Count > 0)
        {
            message.AppendLine($"Added ({added.Count}), in Kiln.dll but not in the baseline:");
            foreach (var line in added) message.AppendLine("+ " + line);
        }
        if (removed.Count > 0)
        {
            message.AppendLine($"Removed ({removed.Count}), in the baseline but not in Kiln.dll:");
            foreach (var line in removed) message.AppendLine("- " + line);
        }
        message.AppendLine("If the change is intended, rewrite the baseline and review its diff before committing:");
        message.AppendLine("  " + UpdateCommand);
        Assert.Fail(message.ToString());
    }

    [Fact]
    public void Listing_is_stable_and_readable()
    {
        var lines = PublicApiListing.Lines(typeof(Tensor).Assembly);
        Assert.Equal(lines, PublicApiListing.Lines(typeof(Tensor).Assembly));
        Assert.Equal(lines.Order(StringComparer.Ordinal), lines);
        Assert.Equal(lines.Count, lines.Distinct().Count());
        Assert.Contains("Kiln.Tensor: sealed class Tensor : IDisposable", lines);
        Assert.Contains("Kiln.Tensor: Tensor Add(Tensor other)", lines);
        Assert.Contains("Kiln.Tensor: Tensor? Grad { get; set; }", lines);
        Assert.Contains("Kiln.Tensor: static Tensor operator +(Tensor a, double b)", lines);
        Assert.Contains("Kiln.Tensor: void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false)", lines);
        Assert.Contains("Kiln.DType: Float32 = 0", lines);
        Assert.Contains("Kiln.DTypeInfo: static int ElementSize(this DType dtype)", lines);
        Assert.Contains("Kiln.Engine: static Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null, bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)", lines);
        Assert.DoesNotContain(lines, l => l.Contains("Dispatcher") || l.Contains("Storage ") || l.Contains("MemoryPool"));
    }

    private static string UpdateCommand => $"{UpdateVariable}=1 dotnet test --filter \"FullyQualifiedName~PublicApiTests\"";

    /// <summary>tests/Kiln.Tests/PublicApi/Kiln.PublicApi.txt, found by walking up from the test binaries to the repository root.</summary>
    private static string BaselinePath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Kiln.Tests", "PublicApi");
            if (Directory.Exists(candidate)) return Path.Combine(candidate, BaselineName);
        }
        throw new DirectoryNotFoundException($"tests/Kiln.Tests/PublicApi not found above {AppContext.BaseDirectory}");
    }
}
