namespace Kiln.Ops;

/// <summary>
/// Shape errors of the convolution and pooling ops, which name each input by its role:
/// "Conv2d: input has 3 channels, weight expects 1 (groups=1): input [8, 3, 28, 28] float32, weight [32, 1, 5, 5] float32".
/// </summary>
internal static class SpatialShapeError
{
    internal static KilnShapeException Create(OpDef op, string what, ReadOnlySpan<TensorSpec> inputs, params ReadOnlySpan<string> roles)
        => Create(op.Name, what, inputs, roles);

    internal static KilnShapeException Create(string opName, string what, ReadOnlySpan<TensorSpec> inputs, params ReadOnlySpan<string> roles)
    {
        var parts = new string[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
            parts[i] = (i < roles.Length ? roles[i] + " " : "") + inputs[i];
        return new KilnShapeException($"{opName}: {what}: {string.Join(", ", parts)}");
    }
}
