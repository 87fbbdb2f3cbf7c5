using System.Text;

namespace Kiln.Data;

/// <summary>
/// Finds a dataset on disk, or downloads it: the explicit path (itself, then its subdirectory named as the
/// dataset), KILN_DATA/&lt;name&gt;, ~/.cache/kiln/&lt;name&gt;, the system data directory
/// (/usr/share/datasets/&lt;name&gt;), and otherwise a download into ~/.cache/kiln/&lt;name&gt; checked
/// against the published SHA-256 of every file. When all fail, one <see cref="KilnException"/> lists every
/// place looked in, what each lacked, and why the download failed.
/// </summary>
internal static class DatasetLocator
{
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

    /// <summary>The places for <paramref name="source"/> under <paramref name="options"/>, with KILN_DATA as this process sees it now.</summary>
    internal static List<SearchPlace> SearchPlaces(DatasetSource source, string? root, LocatorOptions options) =>
        SearchPlaces(source.DirectoryName, root, KilnEnvironment.DataRoot, options.Home,
            options.SystemRoot is null ? null : Path.Combine(options.SystemRoot, source.DirectoryName));

    /// <summary>
    /// The first place where <paramref name="probe"/> finds the dataset (it returns what it found, or null
    /// and what the directory lacks); failing that, the download's result; failing that, the error.
    /// </summary>
    internal static T Locate<T>(DatasetSource source, string? root, LocatorOptions options, Func<string, (T? Found, string Missing)> probe)
        where T : class
    {
        var places = SearchPlaces(source, root, options);
        var report = new StringBuilder();
        foreach (var place in places)
        {
            var (found, missing) = System.IO.Directory.Exists(place.Directory) ? probe(place.Directory) : (null, "no such directory");
            if (found is not null) return found;
            report.Append($"\n  {place.Directory} ({place.Origin}): {missing}");
        }
        if (places.Count == 0) report.Append("\n  (no place to look: no path given, KILN_DATA unset, no home directory)");

        string download;
        var cache = options.CacheDirectory(source.DirectoryName);
        if (options.Downloader is null)
        {
            download = "not attempted (downloading is off)";
        }
        else if (cache is null)
        {
            download = "not attempted (no home directory for ~/.cache/kiln)";
        }
        else
        {
            try
            {
                options.Downloader.Fetch(source, cache);
                var (found, missing) = probe(cache);
                if (found is not null) return found;
                download = $"the files downloaded into {cache} are incomplete: {missing}";
            }
            catch (KilnException e)
            {
                download = $"into {cache} failed: {e.Message}";
            }
        }
        throw new KilnException(
            $"{source.Title} was not found. Looked in:{report}\nDownload {download}.\n{source.Hint}");
    }
}
