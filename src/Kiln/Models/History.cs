namespace Kiln.Models;

/// <summary>
/// What Fit logged at the end of each epoch (Keras's <c>History.history</c>): one list of values per
/// name ("loss", "accuracy", "val_loss", "lr", ...), in epoch order. A name that an epoch did not log
/// has NaN for that epoch, so every list is as long as <see cref="Epochs"/>.
/// </summary>
public sealed class History
{
    private readonly List<int> _epochs = new();
    private readonly Dictionary<string, List<double>> _values = new(StringComparer.Ordinal);

    /// <summary>The epochs logged (0-based), in order.</summary>
    public IReadOnlyList<int> Epochs => _epochs;

    /// <summary>The logged names, in the order they first appeared.</summary>
    public IEnumerable<string> Keys => _values.Keys;

    /// <summary>The values logged as <paramref name="name"/>, one per epoch.</summary>
    public IReadOnlyList<double> this[string name]
        => _values.TryGetValue(name, out var list) ? list
           : throw new KeyNotFoundException($"History has no values named \"{name}\"; it has: {string.Join(", ", _values.Keys)}");

    /// <summary>Whether values named <paramref name="name"/> were logged.</summary>
    public bool Contains(string name) => _values.ContainsKey(name);

    /// <summary>Records the logs of <paramref name="epoch"/>.</summary>
    internal void Append(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        _epochs.Add(epoch);
        foreach (var (name, value) in logs)
        {
            if (!_values.TryGetValue(name, out var list))
            {
                list = new List<double>(_epochs.Count);
                for (int i = 0; i < _epochs.Count - 1; i++) list.Add(double.NaN);
                _values.Add(name, list);
            }
            list.Add(value);
        }
        foreach (var list in _values.Values)
            if (list.Count < _epochs.Count) list.Add(double.NaN);
    }

    /// <summary>Forgets every epoch (a new Fit starts a new history).</summary>
    internal void Clear()
    {
        _epochs.Clear();
        _values.Clear();
    }
}
