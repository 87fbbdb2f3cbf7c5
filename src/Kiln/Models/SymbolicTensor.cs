using System.Threading;
using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// A placeholder for a tensor while a functional <see cref="Model"/> is wired (Keras's
/// <c>KerasTensor</c>): it holds no values, only the shape and dtype the model will compute and
/// which layer call makes it. <see cref="Model.Input(int[])"/> creates one;
/// <c>layer.Call(symbolic)</c> (<see cref="Functional"/>) gives the layer's output; a
/// <see cref="Model"/> between inputs and outputs runs the calls on real tensors.
/// </summary>
public sealed class SymbolicTensor
{
    private static long _created;
    private readonly int[] _shape;

    private SymbolicTensor(int[] shape, DType dtype, Module? layer, SymbolicTensor[] inputs, string? name)
    {
        _shape = shape;
        DType = dtype;
        Layer = layer;
        Inputs = inputs;
        Name = name;
        Order = Interlocked.Increment(ref _created);
    }

    /// <summary>
    /// The shape, batch dimension first and written -1 (Keras prints it as None): an input of 28×28
    /// images is [-1, 1, 28, 28].
    /// </summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The shape of one sample: <see cref="Shape"/> without the batch dimension.</summary>
    public IReadOnlyList<int> SampleShape => _shape[1..];

    /// <summary>The element type.</summary>
    public DType DType { get; }

    /// <summary>Number of dimensions, the batch dimension included.</summary>
    public int Rank => _shape.Length;

    /// <summary>The layer whose call makes this tensor; null for a model input.</summary>
    internal Module? Layer { get; }

    /// <summary>The tensors the layer was called on (empty for a model input).</summary>
    internal SymbolicTensor[] Inputs { get; }

    /// <summary>The name given to the input, or to the layer at this call; null to name it after its type.</summary>
    internal string? Name { get; }

    /// <summary>Creation order: a tensor is made after the tensors it is computed from, so sorting by it orders a graph.</summary>
    internal long Order { get; }

    /// <summary>Whether this is a model input rather than a layer's output.</summary>
    internal bool IsInput => Layer is null;

    internal int[] ShapeArray => _shape;

    /// <summary>An input placeholder of one sample's <paramref name="sampleShape"/>.</summary>
    internal static SymbolicTensor NewInput(int[] sampleShape, DType dtype, string? name)
        => new([-1, .. sampleShape], dtype, null, [], name);

    /// <summary>The output of <paramref name="layer"/> called on <paramref name="inputs"/>, with the shape and dtype its dry run gave.</summary>
    internal static SymbolicTensor NewOutput(Module layer, SymbolicTensor[] inputs, int[] shape, DType dtype, string? name)
        => new(shape, dtype, layer, inputs, name);

    /// <summary>The shape as Keras prints it, the batch dimension as None: <c>(None, 32, 28, 28)</c>.</summary>
    internal static string FormatShape(IReadOnlyList<int> shape)
    {
        var dims = new string[shape.Count];
        for (int i = 0; i < dims.Length; i++) dims[i] = shape[i] < 0 ? "None" : shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return dims.Length == 1 ? $"({dims[0]},)" : "(" + string.Join(", ", dims) + ")";
    }

    /// <summary><c>SymbolicTensor(shape=(None, 784), dtype=float32)</c>, with the layer that makes it when there is one.</summary>
    public override string ToString()
        => Layer is null
            ? $"SymbolicTensor(shape={FormatShape(_shape)}, dtype={DType.Name()}{(Name is null ? "" : $", name={Name}")})"
            : $"SymbolicTensor(shape={FormatShape(_shape)}, dtype={DType.Name()}, from={Layer.Description})";
}
