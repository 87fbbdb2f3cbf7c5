using System.Globalization;

namespace Kiln.Optim;

/// <summary>
/// Checks an <see cref="OptimizerStateDict"/> against an optimizer and builds the group options and
/// per-parameter state it describes, without changing the optimizer: every error is found before
/// anything is replaced. Errors are <see cref="KilnException"/>s that name the group, parameter index,
/// state entry and shapes involved.
/// </summary>
internal sealed class OptimizerStateLoader(Optimizer optimizer, OptimizerStateDict source)
{
    private string Name => optimizer.Name;

    internal (List<KeyValuePair<string, double>>[] Options, List<(Tensor Param, ParameterState State)> State) Read()
    {
        if (source.Optimizer != Name)
            throw new KilnException($"{Name}.LoadStateDict: the state dict was written by {source.Optimizer}, not {Name}");
        var groups = optimizer.Groups;
        if (source.ParamGroups.Count != groups.Count)
            throw new KilnException($"{Name}.LoadStateDict: the state dict has {source.ParamGroups.Count} parameter groups, but the optimizer has {groups.Count}");

        var options = new List<KeyValuePair<string, double>>[groups.Count];
        var byIndex = new Dictionary<int, Tensor>();
        int position = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            var saved = source.ParamGroups[g];
            if (saved.Params.Count != groups[g].Params.Count)
                throw new KilnException($"{Name}.LoadStateDict: parameter group {g} of the state dict has {saved.Params.Count} parameters, but the optimizer's has {groups[g].Params.Count}");
            // As PyTorch: saved indices map, in order, onto the optimizer's parameters in order.
            for (int k = 0; k < saved.Params.Count; k++, position++)
                if (!byIndex.TryAdd(saved.Params[k], groups[g].Params[k]))
                    throw new KilnException($"{Name}.LoadStateDict: parameter index {saved.Params[k]} appears twice in the state dict's groups");
            options[g] = GroupOptions(g, saved, groups[g]);
        }

        var state = new List<(Tensor, ParameterState)>();
        try
        {
            foreach (var (index, entries) in source.State)
            {
                if (!byIndex.TryGetValue(index, out var param))
                    throw new KilnException($"{Name}.LoadStateDict: the state dict has state for parameter {index}, which none of its groups lists (they list {position} parameters)");
                state.Add((param, ParameterStateOf(index, param, entries)));
            }
        }
        catch
        {
            foreach (var (_, s) in state) s.Dispose();
            throw;
        }
        return (options, state);
    }

    private List<KeyValuePair<string, double>> GroupOptions(int g, ParamGroupState saved, ParamGroup current)
    {
        var values = new Dictionary<string, double>();
        foreach (var (name, value) in saved.Options)
        {
            if (ParamGroup.KnownOptions.ContainsKey(name) && !optimizer.Defaults.ContainsKey(name))
                throw new KilnException($"{Name}.LoadStateDict: parameter group {g} of the state dict sets '{name}', which {Name} does not use");
            try
            {
                ParamGroup.CheckValue(name, value);
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new KilnException($"{Name}.LoadStateDict: parameter group {g} of the state dict: {e.Message}", e);
            }
            if (!values.TryAdd(name, value))
                throw new KilnException($"{Name}.LoadStateDict: parameter group {g} of the state dict sets '{name}' twice");
        }
        // Hyper-parameters the state dict lacks keep their current values; the optimizer's come first, in its order.
        var result = new List<KeyValuePair<string, double>>();
        foreach (var (name, _) in optimizer.DefaultList)
            result.Add(new(name, values.Remove(name, out var v) ? v : current[name]));
        foreach (var (name, value) in saved.Options)
            if (values.ContainsKey(name)) result.Add(new(name, value));
        var probe = new ParamGroup([]);
        probe.ReplaceOptions(result);
        if (optimizer.GroupProblem(probe) is { } problem)
            throw new KilnException($"{Name}.LoadStateDict: parameter group {g} of the state dict: {problem}");
        return result;
    }

    private ParameterState ParameterStateOf(int index, Tensor param, IReadOnlyDictionary<string, Tensor> entries)
    {
        string where = $"{Name}.LoadStateDict: state of parameter {index} ({param.Shape} {param.DType.Name()})";
        var known = optimizer.UsesStep ? optimizer.StateNames.Prepend("step").ToList() : optimizer.StateNames.ToList();
        foreach (var name in entries.Keys)
            if (!known.Contains(name))
                throw new KilnException($"{where} has '{name}'; {Name} keeps {(known.Count == 0 ? "no state" : string.Join(", ", known))}");

        var core = optimizer.UsesStep ? optimizer.CoreStateNames.Prepend("step").ToList() : optimizer.CoreStateNames.ToList();
        var present = core.Where(entries.ContainsKey).ToList();
        if (present.Count != 0 && present.Count != core.Count)
            throw new KilnException($"{where} has {string.Join(", ", present)} but not {string.Join(", ", core.Except(present))}; they are saved together");

        var state = new ParameterState();
        try
        {
            foreach (var (name, tensor) in entries)
            {
                if (name == "step")
                {
                    state.Step = StepCount(where, tensor);
                    continue;
                }
                if (!tensor.DType.IsFloatingPoint())
                    throw new KilnException($"{where}: '{name}' is {tensor.DType.Name()}; expected a floating-point tensor");
                if (!tensor.Shape.Equals(param.Shape))
                    throw new KilnException($"{where}: '{name}' has shape {tensor.Shape}, but the parameter has shape {param.Shape}");
                using (Engine.NoGrad())
                {
                    var copy = tensor.DType == param.DType ? tensor.Clone() : tensor.To(param.DType);
                    state.Buffers[name] = copy.DetachFromScope();
                }
            }
        }
        catch
        {
            state.Dispose();
            throw;
        }
        return state;
    }

    private static long StepCount(string where, Tensor tensor)
    {
        if (tensor.NumElements != 1)
            throw new KilnException($"{where}: 'step' has shape {tensor.Shape}; expected one value");
        double step = tensor.Item();
        if (!(step >= 0) || step != Math.Floor(step) || step > long.MaxValue / 2)
            throw new KilnException($"{where}: 'step' is {step.ToString(CultureInfo.InvariantCulture)}; expected a whole number >= 0");
        return (long)step;
    }
}
