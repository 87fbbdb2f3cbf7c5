using System.Globalization;
using System.Text;

namespace Kiln.Models;

/// <summary>
/// Writes each epoch's logs to a CSV file, one row per epoch (Keras's CSVLogger): the header is
/// "epoch" and the first epoch's keys in ordinal order; a key missing from a later epoch is written
/// "NA", and keys that first appear later are not written. Values are invariant-culture and
/// round-trippable (<c>double.Parse</c> gives back the same bits; NaN and ±Infinity as .NET writes
/// them). Each row is on disk when the epoch ends (the file is opened, appended to and closed each
/// epoch, so a crash loses at most the epoch running). Without <c>append</c> a Fit starts the file
/// anew; with it, rows are added to an existing file and the header is written only into an empty or
/// new one. Lines end with "\n" (Keras's csv module writes "\r\n").
/// </summary>
public sealed class CsvLogger : Callback
{
    private string[]? _keys;
    private bool _headerPending;

    /// <summary>Logs to <paramref name="path"/> (its folder is created if needed), fields split by <paramref name="separator"/>.</summary>
    public CsvLogger(string path, char separator = ',', bool append = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (char.IsLetterOrDigit(separator) || separator is '.' or '-' or '+' or '"' or '\r' or '\n')
            throw new ArgumentException($"CsvLogger: separator '{separator}' can appear inside a number or a quoted field; use ',', ';', '\\t' or '|'", nameof(separator));
        Path = path;
        Separator = separator;
        Append = append;
    }

    /// <summary>The file written.</summary>
    public string Path { get; }

    /// <summary>The field separator.</summary>
    public char Separator { get; }

    /// <summary>Whether rows are added to an existing file instead of starting it anew.</summary>
    public bool Append { get; }

    /// <summary>Starts the file anew (or, appending, notes whether it still needs a header).</summary>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        _keys = null;
        if (System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path)) is { } folder) Directory.CreateDirectory(folder);
        if (Append)
        {
            var file = new FileInfo(Path);
            _headerPending = !file.Exists || file.Length == 0;
        }
        else
        {
            File.WriteAllBytes(Path, []);
            _headerPending = true;
        }
    }

    /// <summary>Appends the epoch's row (after the header, on the first epoch of a new file).</summary>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        if (_keys is null)
        {
            _keys = logs.Keys.ToArray();
            Array.Sort(_keys, StringComparer.Ordinal);
        }
        var text = new StringBuilder();
        if (_headerPending)
        {
            text.Append("epoch");
            foreach (var key in _keys) text.Append(Separator).Append(Quoted(key));
            text.Append('\n');
        }
        text.Append(epoch.ToString(CultureInfo.InvariantCulture));
        foreach (var key in _keys)
            text.Append(Separator).Append(logs.TryGetValue(key, out double value) ? value.ToString("R", CultureInfo.InvariantCulture) : "NA");
        text.Append('\n');
        using (var stream = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            var bytes = Encoding.UTF8.GetBytes(text.ToString());
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        _headerPending = false;
    }

    /// <summary>A key as a CSV field: quoted, with quotes doubled, when it holds the separator, a quote or a line break.</summary>
    private string Quoted(string key)
        => key.Contains(Separator) || key.AsSpan().IndexOfAny('"', '\r', '\n') >= 0 ? $"\"{key.Replace("\"", "\"\"")}\"" : key;
}
