using Kiln.NN;

namespace Kiln.Models;

/// <summary>
/// One step of a functional <see cref="Model"/>'s graph, in the order the model runs them: the
/// model's inputs first (in declaration order, <see cref="Layer"/> null), then one node per layer
/// call. Everything a writer of the architecture needs is here: which module runs, under which
/// name (the model's child name, so also the state-dict prefix), which earlier nodes feed it, and
/// the shape and dtype it produces.
/// </summary>
/// <param name="Name">The input's name ("input", "input_1", or the one given), or the layer's name in the model ("linear", "linear_1", or the one given); every call of a shared layer carries the layer's name.</param>
/// <param name="Layer">The module run at this node; null for a model input.</param>
/// <param name="Inputs">Indices of the earlier nodes whose outputs the layer is called on, in argument order (empty for an input).</param>
/// <param name="Call">Which call of <see cref="Layer"/> this is (0 for its first, 1 for a shared layer's second, ...); for an input, its position among the model's inputs.</param>
/// <param name="Shape">The output shape, batch dimension first and -1.</param>
/// <param name="DType">The output dtype.</param>
internal sealed record ModelNode(string Name, Module? Layer, int[] Inputs, int Call, int[] Shape, DType DType)
{
    /// <summary>Whether this node is one of the model's inputs.</summary>
    public bool IsInput => Layer is null;

    /// <summary>How Keras's summary names this node's output in "Connected to": <c>linear[1][0]</c> is the output of the second call of "linear".</summary>
    public string Reference => $"{Name}[{(IsInput ? 0 : Call)}][0]";
}
