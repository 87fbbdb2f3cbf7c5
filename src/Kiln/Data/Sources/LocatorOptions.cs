namespace Kiln.Data;

/// <summary>
/// What dataset lookup depends on besides the explicit path and KILN_DATA (read at each use): the home
/// directory (for ~/.cache/kiln), the system data root (Debian's /usr/share/datasets) and the
/// downloader, or none when downloading is off. Tests replace them with temporary directories and a
/// local server.
/// </summary>
internal sealed record LocatorOptions(string? Home, string? SystemRoot, Downloader? Downloader)
{
    /// <summary>Where Debian's dataset packages (dataset-fashion-mnist) install their files, one directory per dataset.</summary>
    internal const string DebianRoot = "/usr/share/datasets";

    /// <summary>This process's home directory, Debian's root, and the shared downloader when <paramref name="download"/>.</summary>
    internal static LocatorOptions ForProcess(bool download)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return new(string.IsNullOrEmpty(home) ? null : home, DebianRoot, download ? Downloader.Shared : null);
    }

    /// <summary>~/.cache/kiln/<paramref name="directoryName"/>, where downloads go, or null without a home directory.</summary>
    internal string? CacheDirectory(string directoryName) =>
        Home is null ? null : Path.Combine(Home, ".cache", "kiln", directoryName);
}
