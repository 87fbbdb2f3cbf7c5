namespace Kiln.Optim;

/// <summary>
/// What an optimizer keeps for one parameter: its step count and its state tensors by PyTorch's names
/// (exp_avg, momentum_buffer, ...). The tensors are contiguous, have the parameter's shape and dtype,
/// and belong to the optimizer (no scope disposes them).
/// </summary>
internal sealed class ParameterState
{
    internal long Step;

    internal Dictionary<string, Tensor> Buffers { get; } = [];

    /// <summary>
    /// The buffer <paramref name="name"/>, created filled with <paramref name="fill"/> (or left uninitialized
    /// when <paramref name="fill"/> is null, for buffers the first update writes without reading).
    /// <paramref name="created"/> says whether it was made now.
    /// </summary>
    internal Tensor Buffer(string name, Tensor like, double? fill, out bool created)
    {
        if (Buffers.TryGetValue(name, out var buffer))
        {
            created = false;
            return buffer;
        }
        buffer = fill switch
        {
            null => Tensor.Empty(like.ShapeArray, like.DType),
            0 => Tensor.EmptyZeroed(like.ShapeArray, like.DType),
            double value => Tensor.Full(like.ShapeArray, value, like.DType),
        };
        buffer.DetachFromScope();
        Buffers[name] = buffer;
        created = true;
        return buffer;
    }

    /// <summary>The buffer <paramref name="name"/>, created filled with <paramref name="fill"/> if missing.</summary>
    internal Tensor Buffer(string name, Tensor like, double fill = 0) => Buffer(name, like, fill, out _);

    internal void Dispose()
    {
        foreach (var buffer in Buffers.Values) buffer.Dispose();
        Buffers.Clear();
    }
}
