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

    /// <summary>
    /// The input rule every convolution and pooling op shares: each input float32 or float64, all of
    /// one dtype, and rank 4 (NCHW, or [O, C/groups, kH, kW] for the role "weight").
    /// </summary>
    internal static void CheckInputs(string opName, ReadOnlySpan<TensorSpec> inputs, ReadOnlySpan<string> roles)
    {
        for (int i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].DType.IsFloatingPoint())
                throw Create(opName, $"{roles[i]} must be float32 or float64, not {inputs[i].DType.Name()}", inputs, roles);
            if (inputs[i].DType != inputs[0].DType)
                throw Create(opName, $"{roles[0]} and {roles[i]} dtypes differ", inputs, roles);
            if (inputs[i].Shape.Rank != 4)
                throw Create(opName, $"{roles[i]} must have 4 dimensions ({Layout(roles[i])}), got {inputs[i].Shape.Rank}", inputs, roles);
        }
    }

    private static string Layout(string role) => role == "weight" ? "out channels, in channels / groups, kernel height, kernel width" : "batch, channels, height, width";
}
