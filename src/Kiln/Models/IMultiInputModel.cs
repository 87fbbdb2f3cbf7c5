namespace Kiln.Models;

/// <summary>
/// A model with several inputs or outputs (a functional <c>Model</c>): Fit, Evaluate and
/// Predict pass it a list of input tensors and get a list of outputs. Every other module takes one
/// input through <see cref="Kiln.NN.Module.Call"/>.
/// </summary>
internal interface IMultiInputModel
{
    /// <summary>The number of input tensors a call takes.</summary>
    int InputCount { get; }

    /// <summary>The number of output tensors a call returns.</summary>
    int OutputCount { get; }

    /// <summary>Runs the model on <paramref name="inputs"/> (InputCount of them, in declaration order).</summary>
    Tensor[] Forward(IReadOnlyList<Tensor> inputs);
}
