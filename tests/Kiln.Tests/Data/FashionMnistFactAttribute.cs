using Kiln.Data;

namespace Kiln.Tests.Data;

/// <summary>
/// A test on the real Fashion-MNIST files of Debian's dataset-fashion-mnist package: skipped, with the
/// reason shown in the test report, where the package is not installed (.ci/run installs it).
/// </summary>
public sealed class FashionMnistFactAttribute : FactAttribute
{
    public FashionMnistFactAttribute()
    {
        if (!File.Exists(Path.Combine(FashionMnist.SystemDirectory, "t10k-labels-idx1-ubyte.gz")))
            Skip = $"Fashion-MNIST is not in {FashionMnist.SystemDirectory}: apt-get install dataset-fashion-mnist";
    }
}
