namespace Kiln.Compile;

/// <summary>
/// How <c>Engine.Compile</c> compiles: the defaults (<c>new CompileOptions()</c>) give a graph that
/// reads the module's parameters live at every call and traces again for every new input shape.
/// </summary>
public sealed class CompileOptions
{
    /// <summary>
    /// Reads the parameters and buffers once, when the graph is traced, and treats them as constants.
    /// For inference: the compiler can then fold them (a BatchNorm after a Conv2d or Linear becomes part of
    /// its weight and bias), but later changes to the module's weights are not seen; compile again after
    /// training or loading new weights.
    /// </summary>
    public bool FreezeParameters { get; init; }

    /// <summary>
    /// Treats dimension 0 of every input as the batch size: a call with a new batch size reuses the traced
    /// graph (re-inferring its shapes and planning its memory for that size) instead of running the code
    /// again, so <see cref="CompiledFunction.TraceCount"/> does not grow. Every input must have the same
    /// dimension 0. A graph whose shapes cannot follow the batch size (a reshape that folds the batch into
    /// another dimension, a tensor made with the traced batch size) is refused with an error naming the op.
    /// </summary>
    public bool DynamicBatch { get; init; }
}
