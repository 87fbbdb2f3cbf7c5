namespace Kiln.Optim;

/// <summary>One parameter group in an <see cref="OptimizerStateDict"/>: its hyper-parameters and its parameters' indices.</summary>
public sealed class ParamGroupState
{
    /// <summary>A group with <paramref name="options"/> over the parameters numbered <paramref name="params"/>.</summary>
    public ParamGroupState(IReadOnlyList<KeyValuePair<string, double>> options, IReadOnlyList<int> @params)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(@params);
        Options = options.ToArray();
        Params = @params.ToArray();
    }

    /// <summary>The hyper-parameters by PyTorch's names ("lr", "beta1", ...; booleans as 0 or 1), in order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Options { get; }

    /// <summary>The indices of the group's parameters, numbered across all groups in order (PyTorch's 'params').</summary>
    public IReadOnlyList<int> Params { get; }
}
