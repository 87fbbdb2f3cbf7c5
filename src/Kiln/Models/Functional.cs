using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// Wires layers into a functional <see cref="Model"/> (Keras's functional API):
/// <c>var h = new Linear(256).Call(input)</c> calls a layer on a <see cref="SymbolicTensor"/> and
/// returns the symbolic output, as <see cref="Module.Call"/> does for a real tensor. The layer runs
/// once at once, on zeros of batch 1 in evaluation mode without gradients (training modes and
/// running statistics are left as they were): that builds a lazy layer, gives the output its shape
/// and dtype, and makes a wiring mistake fail here with the layer and the shapes named. Calling one
/// module at two places shares it, weights and all.
/// </summary>
public static class Functional
{
    /// <summary>
    /// Calls <paramref name="layer"/> on <paramref name="inputs"/>: one input for an ordinary module,
    /// two or more for a <see cref="Merge"/> layer, as many as a nested <see cref="Model"/> takes.
    /// </summary>
    public static SymbolicTensor Call(this Module layer, params SymbolicTensor[] inputs) => Wire(layer, inputs, null);

    /// <summary>Calls <paramref name="layer"/> on <paramref name="input"/>, naming the layer <paramref name="name"/> in the model (its state-dict prefix).</summary>
    public static SymbolicTensor Call(this Module layer, SymbolicTensor input, string name) => Wire(layer, [input], name);

    /// <summary>Calls <paramref name="layer"/> on several <paramref name="inputs"/>, naming the layer <paramref name="name"/> in the model.</summary>
    public static SymbolicTensor Call(this Module layer, IReadOnlyList<SymbolicTensor> inputs, string name)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Wire(layer, [.. inputs], name);
    }

    private static SymbolicTensor Wire(Module layer, SymbolicTensor[] inputs, string? name)
    {
        ArgumentNullException.ThrowIfNull(layer);
        ArgumentNullException.ThrowIfNull(inputs);
        if (name is not null) Module.CheckMemberName(name, nameof(name));
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentNullException(nameof(inputs), $"Functional model: input {i} of {layer.Description} is null");
        var label = name is null ? layer.Description : $"layer \"{name}\" ({layer.Description})";
        if (inputs.Length == 0) throw new ArgumentException($"Functional model: {label} was called on no inputs", nameof(inputs));
        if (layer is Model { OutputCount: not 1 } nested)
            throw new ArgumentException($"Functional model: {label} has {nested.OutputCount} outputs; only a model with one output can be called as a layer", nameof(layer));

        using var scope = Engine.Scope();
        Tensor output;
        try
        {
            var samples = new Tensor[inputs.Length];
            for (int i = 0; i < samples.Length; i++) samples[i] = Module.SampleBatch(inputs[i].ShapeArray[1..], inputs[i].DType);
            output = layer.RunInEvaluation(() => Model.RunLayer(layer, samples));
        }
        catch (Exception e) when (e is KilnException or ArgumentException)
        {
            throw new KilnShapeException($"Functional model: {label} cannot be applied to {DescribeInputs(inputs)}: {layer.WithoutLocation(e.Message)}", e);
        }
        if (output.Rank == 0 || output.ShapeArray[0] != 1)
            throw new KilnShapeException($"Functional model: {label} must keep the batch dimension first, but on a batch of 1 ({DescribeInputs(inputs)}) it returned shape {output.Shape}");
        return SymbolicTensor.NewOutput(layer, inputs, [-1, .. output.ShapeArray[1..]], output.DType, name);
    }

    private static string DescribeInputs(SymbolicTensor[] inputs)
        => inputs.Length == 1
            ? $"an input of shape {SymbolicTensor.FormatShape(inputs[0].Shape)}"
            : $"{inputs.Length} inputs of shapes " + string.Join(", ", inputs.Select(t => SymbolicTensor.FormatShape(t.Shape)));
}
