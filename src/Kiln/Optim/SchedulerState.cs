using System.Globalization;

namespace Kiln.Optim;

/// <summary>Reads a scheduler's scalar state dict, naming the scheduler and key in every error.</summary>
internal sealed class SchedulerState(string scheduler, IReadOnlyDictionary<string, double> state)
{
    private readonly HashSet<string> _read = [];

    internal static void PutList(IDictionary<string, double> into, string name, IReadOnlyList<double> values)
    {
        for (int i = 0; i < values.Count; i++) into[$"{name}.{i.ToString(CultureInfo.InvariantCulture)}"] = values[i];
    }

    internal double Number(string key)
    {
        if (!state.TryGetValue(key, out double value))
            throw new KilnException($"{scheduler}.LoadStateDict: the state dict has no '{key}'");
        _read.Add(key);
        return value;
    }

    internal int Whole(string key, int min)
    {
        double value = Number(key);
        if (!(value >= min) || value != Math.Floor(value) || value > int.MaxValue)
            throw new KilnException($"{scheduler}.LoadStateDict: '{key}' is {value.ToString(CultureInfo.InvariantCulture)}; expected a whole number >= {min}");
        return (int)value;
    }

    internal double[] List(string name, int count)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            string key = $"{name}.{i.ToString(CultureInfo.InvariantCulture)}";
            if (!state.ContainsKey(key))
                throw new KilnException($"{scheduler}.LoadStateDict: the state dict has no '{key}'; the optimizer has {count} parameter groups");
            values[i] = Number(key);
        }
        return values;
    }

    internal void EnsureAllRead()
    {
        var extra = state.Keys.Where(k => !_read.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
            throw new KilnException($"{scheduler}.LoadStateDict: unexpected keys {string.Join(", ", extra)} (a state dict of another scheduler, or made for more parameter groups?)");
    }
}
