using System.Globalization;

namespace Kiln.Optim;

/// <summary>
/// An optimizer's state as PyTorch's <c>state_dict()</c> lays it out: <see cref="ParamGroups"/> (hyper-parameters
/// and parameter indices) and <see cref="State"/> (per parameter index, its tensors: "step", "exp_avg", ...).
/// <see cref="FlatTensors"/> and <see cref="FlatMetadata"/> give the same content as named tensors plus string
/// metadata, the shape of a safetensors file; <see cref="FromFlat"/> reads it back. Disposing it disposes the
/// tensors it holds (views and step scalars, so the optimizer's own state is not affected).
/// </summary>
public sealed class OptimizerStateDict : IDisposable
{
    private const string StatePrefix = "state.";
    private const string GroupPrefix = "param_groups.";

    /// <summary>A state dict for optimizer type <paramref name="optimizer"/> ("Adam").</summary>
    public OptimizerStateDict(string optimizer, IReadOnlyList<ParamGroupState> paramGroups, IReadOnlyDictionary<int, IReadOnlyDictionary<string, Tensor>> state)
    {
        ArgumentException.ThrowIfNullOrEmpty(optimizer);
        ArgumentNullException.ThrowIfNull(paramGroups);
        ArgumentNullException.ThrowIfNull(state);
        Optimizer = optimizer;
        ParamGroups = paramGroups.ToArray();
        State = state;
    }

    /// <summary>The optimizer type that wrote it ("Adam"); loading into another type is refused.</summary>
    public string Optimizer { get; }

    /// <summary>Each group's hyper-parameters and parameter indices.</summary>
    public IReadOnlyList<ParamGroupState> ParamGroups { get; }

    /// <summary>Per parameter index, its state tensors by name; parameters that have not stepped yet have none.</summary>
    public IReadOnlyDictionary<int, IReadOnlyDictionary<string, Tensor>> State { get; }

    /// <summary>The state tensors keyed "state.{index}.{name}" ("state.0.exp_avg").</summary>
    public IReadOnlyDictionary<string, Tensor> FlatTensors()
    {
        var result = new SortedDictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (index, entries) in State)
            foreach (var (name, tensor) in entries)
                result[$"{StatePrefix}{index.ToString(CultureInfo.InvariantCulture)}.{name}"] = tensor;
        return result;
    }

    /// <summary>
    /// Everything else as strings: "optimizer" (the type), "param_groups" (the group count), and per group
    /// g "param_groups.{g}.params" (comma-separated indices) and "param_groups.{g}.{option}" (round-trip numbers).
    /// </summary>
    public IReadOnlyDictionary<string, string> FlatMetadata()
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["optimizer"] = Optimizer,
            ["param_groups"] = ParamGroups.Count.ToString(CultureInfo.InvariantCulture),
        };
        for (int g = 0; g < ParamGroups.Count; g++)
        {
            string prefix = $"{GroupPrefix}{g.ToString(CultureInfo.InvariantCulture)}.";
            result[prefix + "params"] = string.Join(",", ParamGroups[g].Params.Select(i => i.ToString(CultureInfo.InvariantCulture)));
            foreach (var (name, value) in ParamGroups[g].Options)
                result[prefix + name] = value.ToString("R", CultureInfo.InvariantCulture);
        }
        return result;
    }

    /// <summary>
    /// The state dict that <see cref="FlatTensors"/> and <see cref="FlatMetadata"/> describe (the tensors are
    /// used as they are, not copied). Malformed keys or values throw <see cref="KilnFormatException"/>.
    /// Option order within a group is not kept by the flat form; options come back sorted by name.
    /// </summary>
    public static OptimizerStateDict FromFlat(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue("optimizer", out var optimizer) || string.IsNullOrEmpty(optimizer))
            throw new KilnFormatException("optimizer state: the metadata has no 'optimizer' entry");
        if (!metadata.TryGetValue("param_groups", out var countText) || !TryIndex(countText, out int groupCount))
            throw new KilnFormatException("optimizer state: the metadata has no valid 'param_groups' count");
        if (groupCount > metadata.Count)
            throw new KilnFormatException($"optimizer state: 'param_groups' says {groupCount} groups, but the metadata has only {metadata.Count} entries");

        var options = new List<KeyValuePair<string, double>>[groupCount];
        var indices = new int[groupCount][];
        for (int g = 0; g < groupCount; g++) options[g] = [];
        foreach (var (key, text) in metadata.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            if (key is "optimizer" or "param_groups") continue;
            if (!key.StartsWith(GroupPrefix, StringComparison.Ordinal))
                throw new KilnFormatException($"optimizer state: unexpected metadata key '{key}'");
            var rest = key[GroupPrefix.Length..];
            int dot = rest.IndexOf('.');
            if (dot <= 0 || !TryIndex(rest[..dot], out int g) || g >= groupCount || dot == rest.Length - 1)
                throw new KilnFormatException($"optimizer state: metadata key '{key}' does not name one of the {groupCount} parameter groups and an option");
            string name = rest[(dot + 1)..];
            if (name == "params")
            {
                var parts = text.Length == 0 ? [] : text.Split(',');
                indices[g] = new int[parts.Length];
                for (int k = 0; k < parts.Length; k++)
                    if (!TryIndex(parts[k], out indices[g][k]))
                        throw new KilnFormatException($"optimizer state: '{key}' = '{text}' is not a comma-separated list of parameter indices");
            }
            else
            {
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
                    throw new KilnFormatException($"optimizer state: '{key}' = '{text}' is not a number");
                options[g].Add(new(name, value));
            }
        }
        var groups = new ParamGroupState[groupCount];
        for (int g = 0; g < groupCount; g++)
            groups[g] = new ParamGroupState(options[g], indices[g] ?? throw new KilnFormatException($"optimizer state: parameter group {g} has no 'params' entry"));

        var state = new SortedDictionary<int, IReadOnlyDictionary<string, Tensor>>();
        foreach (var (key, tensor) in tensors)
        {
            int dot = key.StartsWith(StatePrefix, StringComparison.Ordinal) ? key.IndexOf('.', StatePrefix.Length) : -1;
            if (dot < 0 || !TryIndex(key[StatePrefix.Length..dot], out int index) || dot == key.Length - 1)
                throw new KilnFormatException($"optimizer state: tensor key '{key}' is not of the form state.<index>.<name>");
            if (!state.TryGetValue(index, out var entries)) state[index] = entries = new Dictionary<string, Tensor>();
            ((Dictionary<string, Tensor>)entries)[key[(dot + 1)..]] = tensor;
        }
        return new OptimizerStateDict(optimizer, groups, state);
    }

    /// <summary>Disposes the tensors this state dict holds.</summary>
    public void Dispose()
    {
        foreach (var entries in State.Values)
            foreach (var tensor in entries.Values) tensor.Dispose();
    }

    private static bool TryIndex(string text, out int value)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
