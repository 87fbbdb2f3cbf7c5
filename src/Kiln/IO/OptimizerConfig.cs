using System.Text.Json;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.IO;

/// <summary>An optimizer read from config.json and not built yet: its type, default hyper-parameters and the parameters of each group, by state dict name.</summary>
internal sealed record OptimizerPlan(string Type, IReadOnlyDictionary<string, double> Defaults, IReadOnlyList<string[]> Groups);

/// <summary>
/// The fixed registry of optimizer types a saved model may hold (Kiln's own: <see cref="Sgd"/>,
/// <see cref="Adam"/>, <see cref="AdamW"/>, <see cref="RmsProp"/>, <see cref="Adagrad"/>): config.json
/// keeps the type, its default hyper-parameters and each parameter group's parameters by name, so the
/// optimizer can be rebuilt over a loaded model's parameters; the per-group hyper-parameters and the
/// state tensors are in optimizer.safetensors, in <see cref="OptimizerStateDict"/>'s flat form.
/// </summary>
internal static class OptimizerConfig
{
    /// <summary>The registry name of <paramref name="optimizer"/>'s exact type, or null when it has none.</summary>
    public static string? NameOf(Optimizer optimizer) => optimizer switch
    {
        _ when optimizer.GetType() == typeof(Sgd) => "Sgd",
        _ when optimizer.GetType() == typeof(Adam) => "Adam",
        _ when optimizer.GetType() == typeof(AdamW) => "AdamW",
        _ when optimizer.GetType() == typeof(RmsProp) => "RmsProp",
        _ when optimizer.GetType() == typeof(Adagrad) => "Adagrad",
        _ => null,
    };

    /// <summary>Writes the "optimizer" object; every optimized parameter must be one of <paramref name="model"/>'s.</summary>
    public static void Write(Utf8JsonWriter w, Optimizer optimizer, Module model)
    {
        var type = NameOf(optimizer)
            ?? throw new ArgumentException($"Save: the optimizer is a {optimizer.GetType().Name}; a saved model holds only Kiln's optimizers (Sgd, Adam, AdamW, RmsProp, Adagrad). Save its state with optimizer.StateDict() and Safetensors instead", nameof(optimizer));
        var names = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        foreach (var (name, parameter) in model.NamedParameters()) names.TryAdd(parameter, name);

        w.WriteStartObject("optimizer");
        w.WriteString("type", type);
        w.WriteStartObject("defaults");
        foreach (var (name, value) in optimizer.DefaultList) ConfigObject.WriteDouble(w, name, value);
        w.WriteEndObject();
        w.WriteStartArray("param_groups");
        for (int g = 0; g < optimizer.ParamGroups.Count; g++)
        {
            w.WriteStartObject();
            w.WriteStartArray("params");
            var group = optimizer.ParamGroups[g];
            for (int k = 0; k < group.Params.Count; k++)
            {
                var p = group.Params[k];
                if (!names.TryGetValue(p, out var name))
                    throw new ArgumentException($"Save: parameter {k} of the optimizer's parameter group {g} ({p.Shape} {p.DType.Name()}) is not a parameter of the model, so a loaded model could not give it back; save that optimizer's state on its own (optimizer.StateDict())", nameof(optimizer));
                w.WriteStringValue(name);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Reads and checks the "optimizer" object against the model's planned <paramref name="state"/>.</summary>
    public static OptimizerPlan Read(ConfigObject c, IReadOnlyDictionary<string, StateSlot> state)
    {
        var type = c.String("type");
        var expected = Probe(type)?.DefaultList ?? throw c.Error("type", $"is {ConfigObject.Quote(type)}; expected one of Sgd, Adam, AdamW, RmsProp, Adagrad");
        var defaults = c.Object("defaults", $"{c.Where}.defaults");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, _) in expected)
        {
            double value = defaults.Double(name, finite: false);
            try
            {
                ParamGroup.CheckValue(name, value);
            }
            catch (ArgumentOutOfRangeException)
            {
                throw defaults.Error(name, $"is {value}, which {type} does not accept");
            }
            values[name] = value;
        }
        defaults.Finish();

        var groupsValue = c.Array("param_groups", state.Count + 1);
        var groups = new List<string[]>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int g = 0;
        foreach (var item in groupsValue.EnumerateArray())
        {
            var group = ConfigObject.Of(item, $"{c.Where}.param_groups[{g}]");
            var names = group.StringArray("params", state.Count);
            foreach (var name in names)
            {
                if (!state.TryGetValue(name, out var slot) || !slot.IsParameter)
                    throw group.Error("params", $"names {ConfigObject.Quote(name)}, which is not a parameter of the model");
                if (!seen.Add(name)) throw group.Error("params", $"names {ConfigObject.Quote(name)} a second time");
            }
            group.Finish();
            groups.Add(names);
            g++;
        }
        c.Finish();
        return new OptimizerPlan(type, values, groups);
    }

    /// <summary>Builds the optimizer <paramref name="plan"/> describes over <paramref name="model"/>'s parameters (its state not loaded yet).</summary>
    public static Optimizer Create(OptimizerPlan plan, Module model, string where)
    {
        var d = plan.Defaults;
        Optimizer optimizer = plan.Type switch
        {
            "Sgd" => new Sgd(d["lr"], d["momentum"], d["dampening"], d["weight_decay"], d["nesterov"] != 0, d["maximize"] != 0),
            "Adam" => new Adam(d["lr"], d["beta1"], d["beta2"], d["eps"], d["weight_decay"], d["amsgrad"] != 0, d["maximize"] != 0),
            "AdamW" => new AdamW(d["lr"], d["beta1"], d["beta2"], d["eps"], d["weight_decay"], d["amsgrad"] != 0, d["maximize"] != 0),
            "RmsProp" => new RmsProp(d["lr"], d["alpha"], d["eps"], d["weight_decay"], d["momentum"], d["centered"] != 0, d["maximize"] != 0),
            _ => new Adagrad(d["lr"], d["lr_decay"], d["weight_decay"], d["initial_accumulator_value"], d["eps"], d["maximize"] != 0),
        };
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, parameter) in model.NamedParameters()) parameters[name] = parameter;
        for (int g = 0; g < plan.Groups.Count; g++)
        {
            var tensors = new Tensor[plan.Groups[g].Length];
            for (int k = 0; k < tensors.Length; k++)
                if (!parameters.TryGetValue(plan.Groups[g][k], out tensors[k]!))
                    throw new KilnFormatException($"{where}: parameter group {g} names \"{plan.Groups[g][k]}\", the second name of a shared parameter; a group names each parameter by its first name");
            optimizer.AddParamGroup(tensors);
        }
        return optimizer;
    }

    // An optimizer of the type with its default settings, whose DefaultList names the hyper-parameters the type has.
    private static Optimizer? Probe(string type) => type switch
    {
        "Sgd" => new Sgd(lr: 0.01),
        "Adam" => new Adam(),
        "AdamW" => new AdamW(),
        "RmsProp" => new RmsProp(),
        "Adagrad" => new Adagrad(),
        _ => null,
    };
}
