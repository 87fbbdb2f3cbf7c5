using System.Diagnostics;

namespace Kiln.Tests.IO;

/// <summary>What every fuzz test of a file reader asserts of one damaged file: a result or a KilnFormatException, quickly, within an allocation bound.</summary>
internal static class FormatFuzz
{
    /// <summary>
    /// Runs <paramref name="load"/> on a damaged file of <paramref name="fileLength"/> bytes: returns its
    /// result (counted as loaded) or null for a <see cref="KilnFormatException"/> (counted as refused);
    /// any other exception, more than 2 s, or managed allocation beyond 8 bytes per file byte plus
    /// 2 MiB (for the parsers and the objects built) fails the test naming <paramref name="what"/>.
    /// </summary>
    internal static T? LoadOrRefuse<T>(Func<T> load, int fileLength, string what, ref int loaded, ref int refused) where T : class
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        T? result = null;
        try
        {
            result = load();
            loaded++;
        }
        catch (KilnFormatException)
        {
            refused++;
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} instead of KilnFormatException: {e}");
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"{what}: loading took {clock.Elapsed}");
        Assert.True(allocated < 8L * fileLength + (2 << 20), $"{what}: loading a {fileLength}-byte file allocated {allocated} bytes");
        return result;
    }
}
