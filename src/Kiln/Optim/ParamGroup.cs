using System.Globalization;

namespace Kiln.Optim;

/// <summary>
/// Parameters that share hyper-parameters, as a PyTorch parameter group (<c>{'params': ..., 'lr': ...}</c>).
/// Set only the options that differ from the optimizer's defaults; adding the group to an optimizer
/// (its constructor or <see cref="Optimizer.AddParamGroup(ParamGroup)"/>) fills in the rest. Options are
/// read and changed by name with PyTorch's keys ("lr", "weight_decay", "beta1", ...) or through the typed
/// properties; boolean options are stored as 0 or 1. Keys an optimizer does not use are allowed (schedulers
/// keep "initial_lr" here, as in PyTorch), except the hyper-parameters of other optimizers.
/// </summary>
public sealed class ParamGroup
{
    /// <summary>The hyper-parameter names of all Kiln optimizers, with the values each may take.</summary>
    internal static readonly IReadOnlyDictionary<string, OptionKind> KnownOptions = new Dictionary<string, OptionKind>
    {
        ["lr"] = OptionKind.NonNegative,
        ["weight_decay"] = OptionKind.NonNegative,
        ["momentum"] = OptionKind.NonNegative,
        ["dampening"] = OptionKind.Finite,
        ["nesterov"] = OptionKind.Boolean,
        ["maximize"] = OptionKind.Boolean,
        ["beta1"] = OptionKind.UnitInterval,
        ["beta2"] = OptionKind.UnitInterval,
        ["eps"] = OptionKind.NonNegative,
        ["amsgrad"] = OptionKind.Boolean,
        ["alpha"] = OptionKind.NonNegative,
        ["centered"] = OptionKind.Boolean,
        ["lr_decay"] = OptionKind.NonNegative,
        ["initial_accumulator_value"] = OptionKind.NonNegative,
    };

    internal enum OptionKind { NonNegative, Finite, UnitInterval, Boolean }

    private readonly Tensor[] _params;
    private readonly List<KeyValuePair<string, double>> _options = [];

    /// <summary>A group of <paramref name="parameters"/>; its options are the optimizer's defaults until set.</summary>
    public ParamGroup(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _params = parameters.ToArray();
        for (int i = 0; i < _params.Length; i++)
            if (_params[i] is null) throw new ArgumentException($"parameter {i} of the group is null", nameof(parameters));
    }

    /// <summary>The parameters, in the order the optimizer numbers them.</summary>
    public IReadOnlyList<Tensor> Params => _params;

    /// <summary>The optimizer this group was added to, or null.</summary>
    internal Optimizer? Owner { get; set; }

    /// <summary>The options set on this group (all of the optimizer's hyper-parameters once added to one), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Options => _options.AsReadOnly();

    /// <summary>Whether option <paramref name="name"/> is set.</summary>
    public bool Contains(string name) => IndexOf(name) >= 0;

    /// <summary>The option <paramref name="name"/> ("lr", "weight_decay", "initial_lr", ...).</summary>
    public double this[string name]
    {
        get
        {
            int i = IndexOf(name);
            if (i < 0) throw new KilnException(MissingMessage(name));
            return _options[i].Value;
        }
        set
        {
            ArgumentNullException.ThrowIfNull(name);
            CheckValue(name, value);
            if (Owner is not null && KnownOptions.ContainsKey(name) && !Owner.Defaults.ContainsKey(name))
                throw new KilnException($"{Owner.Name} does not use '{name}'; its hyper-parameters are {string.Join(", ", Owner.Defaults.Keys)}");
            int i = IndexOf(name);
            if (i >= 0) _options[i] = new(name, value);
            else _options.Add(new(name, value));
        }
    }

    /// <summary>Learning rate ("lr").</summary>
    public double Lr { get => this["lr"]; set => this["lr"] = value; }

    /// <summary>Weight decay ("weight_decay"): L2 added to the gradient, or decoupled in AdamW.</summary>
    public double WeightDecay { get => this["weight_decay"]; set => this["weight_decay"] = value; }

    /// <summary>Momentum factor ("momentum", SGD and RMSprop).</summary>
    public double Momentum { get => this["momentum"]; set => this["momentum"] = value; }

    /// <summary>Dampening for momentum ("dampening", SGD).</summary>
    public double Dampening { get => this["dampening"]; set => this["dampening"] = value; }

    /// <summary>Nesterov momentum ("nesterov", SGD).</summary>
    public bool Nesterov { get => this["nesterov"] != 0; set => this["nesterov"] = value ? 1 : 0; }

    /// <summary>Maximize the objective instead of minimizing it ("maximize").</summary>
    public bool Maximize { get => this["maximize"] != 0; set => this["maximize"] = value ? 1 : 0; }

    /// <summary>Adam's first-moment decay ("beta1"; PyTorch's betas[0]).</summary>
    public double Beta1 { get => this["beta1"]; set => this["beta1"] = value; }

    /// <summary>Adam's second-moment decay ("beta2"; PyTorch's betas[1]).</summary>
    public double Beta2 { get => this["beta2"]; set => this["beta2"] = value; }

    /// <summary>Term added to the denominator for numerical stability ("eps").</summary>
    public double Eps { get => this["eps"]; set => this["eps"] = value; }

    /// <summary>The AMSGrad variant of Adam/AdamW ("amsgrad").</summary>
    public bool Amsgrad { get => this["amsgrad"] != 0; set => this["amsgrad"] = value ? 1 : 0; }

    /// <summary>RMSprop's smoothing constant ("alpha").</summary>
    public double Alpha { get => this["alpha"]; set => this["alpha"] = value; }

    /// <summary>Centered RMSprop: normalize by an estimate of the gradient's variance ("centered").</summary>
    public bool Centered { get => this["centered"] != 0; set => this["centered"] = value ? 1 : 0; }

    /// <summary>Adagrad's learning-rate decay ("lr_decay").</summary>
    public double LrDecay { get => this["lr_decay"]; set => this["lr_decay"] = value; }

    /// <summary>Adagrad's starting value of the sum of squares ("initial_accumulator_value").</summary>
    public double InitialAccumulatorValue { get => this["initial_accumulator_value"]; set => this["initial_accumulator_value"] = value; }

    /// <summary>Throws when <paramref name="value"/> is outside what hyper-parameter <paramref name="name"/> may take.</summary>
    internal static void CheckValue(string name, double value)
    {
        if (!KnownOptions.TryGetValue(name, out var kind))
        {
            if (double.IsNaN(value)) throw new ArgumentOutOfRangeException(name, value, $"'{name}' must not be NaN");
            return;
        }
        string? expected = kind switch
        {
            OptionKind.NonNegative when !(value >= 0 && double.IsFinite(value)) => "a finite value >= 0",
            OptionKind.Finite when !double.IsFinite(value) => "a finite value",
            OptionKind.UnitInterval when !(value >= 0 && value < 1) => "a value in [0, 1)",
            OptionKind.Boolean when value != 0 && value != 1 => "0 or 1 (false or true)",
            _ => null,
        };
        if (expected is not null)
            throw new ArgumentOutOfRangeException(name, value, $"invalid '{name}' {value.ToString(CultureInfo.InvariantCulture)}: expected {expected}");
    }

    /// <summary>Puts the options in the order of <paramref name="defaults"/>, then the others, filling in the missing defaults.</summary>
    internal void Resolve(IReadOnlyList<KeyValuePair<string, double>> defaults)
    {
        var given = _options.ToList();
        _options.Clear();
        foreach (var (name, value) in defaults)
        {
            int i = given.FindIndex(o => o.Key == name);
            _options.Add(new(name, i >= 0 ? given[i].Value : value));
        }
        foreach (var option in given)
            if (!defaults.Any(d => d.Key == option.Key)) _options.Add(option);
    }

    /// <summary>Replaces every option with <paramref name="options"/> (already checked).</summary>
    internal void ReplaceOptions(IEnumerable<KeyValuePair<string, double>> options)
    {
        _options.Clear();
        _options.AddRange(options);
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < _options.Count; i++)
            if (_options[i].Key == name) return i;
        return -1;
    }

    private string MissingMessage(string name)
    {
        if (Owner is null)
            return $"this parameter group does not set '{name}'; unset options take the optimizer's defaults when the group is added to one";
        return $"this {Owner.Name} parameter group has no '{name}'; it has {string.Join(", ", _options.Select(o => o.Key))}";
    }
}
