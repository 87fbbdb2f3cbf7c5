namespace Kiln.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a
/// torn one: the bytes go to a temporary file in the target's directory (so the final rename stays
/// on one file system), are flushed to the disk, and the temporary file is then renamed over the
/// target. When writing fails the temporary file is deleted and the target is left untouched.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> atomically with the bytes <paramref name="write"/> puts in the stream it is given.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? throw new ArgumentException($"'{path}' names no file", nameof(path));
        if (Directory.Exists(full)) throw new IOException($"cannot write '{full}': it is a directory");
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                // Flush(true) asks the OS to put the bytes on the disk, so a crash after the rename
                // cannot leave the new name pointing at data that never reached it.
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string temp)
    {
        // The original exception is the one worth reporting; a failed cleanup must not replace it.
        try { File.Delete(temp); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
