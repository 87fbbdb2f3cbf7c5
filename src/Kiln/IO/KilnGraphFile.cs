using Kiln.Compile;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>
/// The <c>.kiln</c> file: a compiled graph with its weights, which runs with only the Kiln assembly,
/// without the C# code or the module classes that built it (TorchScript's <c>torch.jit.save</c> and
/// <c>torch.jit.load</c>, TensorFlow's SavedModel). What is saved is the graph of the compiled
/// function's most recent signature after the portable passes (constant folding, algebraic
/// simplification, common subexpressions, dead code), never an executor's lowered form: loading runs
/// the passes of the Kiln that loads it, so a newer Kiln's optimizations apply to an older file.
/// The loaded function runs that one signature (the input shapes and dtypes it was traced with).
/// <para>
/// The file is a fixed header (magic, format version, section lengths), the graph (inputs, named
/// parameters, constants, nodes as op name, attributes, input values and result spec, outputs), the
/// weights as a safetensors section, and a CRC-32. It holds only data: the reader looks ops up by
/// name in Kiln's registry, checks every count, id, attribute and spec before it is used (each node's
/// result is inferred again by its op), and refuses a malformed or hostile file with a
/// <see cref="KilnFormatException"/> naming the node and field. Files are written atomically, and the
/// same graph gives the same bytes.
/// </para>
/// </summary>
public static class KilnGraphFile
{
    /// <summary>
    /// Saves the graph of <paramref name="compiled"/>'s most recent signature, with its parameters' and
    /// constants' current values, to <paramref name="path"/> (conventionally <c>*.kiln</c>) atomically.
    /// Call the compiled function once on an example input first, so it has a graph.
    /// </summary>
    /// <exception cref="InvalidOperationException">The function has not been called yet.</exception>
    public static void Save(this CompiledFunction compiled, string path)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentException.ThrowIfNullOrEmpty(path);
        compiled.ReadPortableGraph(graph => AtomicFile.Write(path, stream => KilnGraphWriter.Write(stream, graph)));
    }

    /// <summary>
    /// Compiles <paramref name="module"/>, traces it on <paramref name="exampleInput"/> in its current
    /// training mode (call <see cref="Module.Eval"/> first for inference) and saves the graph to
    /// <paramref name="path"/>: <c>Engine.Compile(module)</c>, one call, and <see cref="Save(CompiledFunction, string)"/>.
    /// </summary>
    public static void Save(Module module, Tensor exampleInput, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(exampleInput);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var compiled = Engine.Compile(module);
        using (Engine.NoGrad()) compiled.Call(exampleInput).Dispose();
        compiled.Save(path);
    }

    /// <summary>
    /// Loads the <c>.kiln</c> file at <paramref name="path"/> as a function that runs the saved graph
    /// (call it with <see cref="CompiledFunction.Call(Tensor)"/>, <see cref="CompiledFunction.Invoke"/>
    /// or <see cref="CompiledFunction.CallInto"/>). The function owns the loaded weights; dispose it when done.
    /// </summary>
    /// <exception cref="KilnFormatException">The file is not a valid .kiln file, or was written by a newer format version.</exception>
    public static CompiledFunction Load(string path) => Load(path, new CompileOptions());

    /// <summary>
    /// <see cref="Load(string)"/> with <paramref name="options"/>: <see cref="CompileOptions.FreezeParameters"/>
    /// lets the optimizer fold and pre-pack the loaded weights (for serving: batch norm folds into the layer
    /// before it, so results may differ from the saved model's in the last bits), and
    /// <see cref="CompileOptions.DynamicBatch"/> runs the graph at any batch size (saved at 2 or more).
    /// </summary>
    /// <exception cref="KilnFormatException">The file is not a valid .kiln file, or was written by a newer format version.</exception>
    public static CompiledFunction Load(string path, CompileOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(options);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return KilnGraphReader.Read(stream, $"file '{path}'", options);
    }

    /// <summary>Reads a .kiln file from <paramref name="stream"/> (seekable; from its position to its end).</summary>
    internal static CompiledFunction Read(Stream stream, string source) => KilnGraphReader.Read(stream, source, new CompileOptions());
}
