using System.Net;
using System.Security.Cryptography;

namespace Kiln.Data;

/// <summary>
/// Downloads a dataset's files into a directory. Each file is streamed into a temporary file beside its
/// target while its SHA-256 is computed, then checked for its exact size and published hash, flushed to
/// disk and renamed into place, so a broken or tampered transfer never leaves a file under the real
/// name. Mirrors are tried in order until one delivers a file that checks out.
/// </summary>
internal sealed class Downloader(HttpClient client, Action<string>? log)
{
    private static readonly Lazy<Downloader> SharedInstance = new(() =>
        new Downloader(new HttpClient { Timeout = TimeSpan.FromHours(1) }, message => Console.Error.WriteLine(message)));

    /// <summary>The process's downloader: one HTTP client, progress lines on standard error.</summary>
    internal static Downloader Shared => SharedInstance.Value;

    /// <summary>
    /// Makes sure <paramref name="directory"/> holds every file of <paramref name="source"/> (files already
    /// there with the right size and hash are kept). Throws a <see cref="KilnException"/> naming the file,
    /// each address tried and what went wrong there.
    /// </summary>
    internal void Fetch(DatasetSource source, string directory)
    {
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KilnException($"cannot create {directory}: {e.Message}");
        }
        foreach (var file in source.Files)
        {
            var target = Path.Combine(directory, file.Name);
            if (File.Exists(target) && new FileInfo(target).Length == file.Size && HashOf(target) == file.Sha256) continue;
            var failures = new List<string>();
            bool fetched = false;
            foreach (var mirror in source.Mirrors)
            {
                var url = new Uri(new Uri(mirror), file.Name);
                try
                {
                    log?.Invoke($"Kiln: downloading {source.Title} {file.Name} ({file.Size:N0} bytes) from {url} into {directory}");
                    FetchFile(url, file, target);
                    fetched = true;
                    break;
                }
                catch (KilnException e)
                {
                    failures.Add(e.Message);
                }
            }
            if (!fetched)
                throw new KilnException($"{file.Name} could not be downloaded: " + string.Join("; ", failures));
        }
    }

    private void FetchFile(Uri url, RemoteFile file, string target)
    {
        var temp = $"{target}.{Environment.ProcessId}.{Guid.NewGuid():N}.part";
        try
        {
            using (var request = new HttpRequestMessage(HttpMethod.Get, url))
            using (var response = Send(request, url))
            {
                if (!response.IsSuccessStatusCode)
                    throw new KilnException($"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                long? announced = response.Content.Headers.ContentLength;
                if (announced is long length && length != file.Size)
                    throw new KilnException($"{url}: the server announces {length} bytes, {file.Name} has {file.Size}");
                using var body = response.Content.ReadAsStream();
                using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var buffer = new byte[1 << 16];
                long received = 0;
                while (true)
                {
                    int n;
                    try
                    {
                        n = body.Read(buffer, 0, buffer.Length);
                    }
                    catch (Exception e) when (e is IOException or HttpRequestException)
                    {
                        throw new KilnException($"{url}: the transfer broke off after {received} of {file.Size} bytes ({e.Message})");
                    }
                    if (n == 0) break;
                    received += n;
                    if (received > file.Size)
                        throw new KilnException($"{url}: the server sent more than the {file.Size} bytes of {file.Name}");
                    hash.AppendData(buffer, 0, n);
                    output.Write(buffer, 0, n);
                }
                if (received != file.Size)
                    throw new KilnException($"{url}: truncated transfer: received {received} of the {file.Size} bytes of {file.Name}");
                var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
                if (actual != file.Sha256)
                    throw new KilnException($"{url}: SHA-256 mismatch for {file.Name}: expected {file.Sha256}, got {actual}; the download was discarded");
                output.Flush(flushToDisk: true);
            }
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KilnException($"{url}: writing {temp} failed: {e.Message}");
        }
        finally
        {
            try
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            catch (IOException)
            {
                // Best effort: the temporary name is unique, and the real file was never touched.
            }
        }
    }

    private HttpResponseMessage Send(HttpRequestMessage request, Uri url)
    {
        try
        {
            return client.Send(request, HttpCompletionOption.ResponseHeadersRead);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or WebException or NotSupportedException)
        {
            throw new KilnException($"{url}: {e.Message}");
        }
    }

    /// <summary>The SHA-256 of a file, lowercase hex.</summary>
    internal static string HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
