using Kiln.NN;

namespace Kiln.IO;

/// <summary>Saves and loads a <see cref="Module"/>'s state dict as a safetensors file.</summary>
public static class ModuleWeights
{
    /// <summary>
    /// Writes <see cref="Module.StateDict"/> (parameters and persistent buffers by dotted name) to
    /// <paramref name="path"/> as safetensors, atomically.
    /// </summary>
    public static void SaveWeights(this Module module, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        var state = module.StateDict();
        try { Safetensors.Save(path, state, metadata); }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    /// <summary>
    /// Reads a safetensors file into <paramref name="module"/> with <see cref="Module.LoadStateDict"/>
    /// (dtypes converted; with <paramref name="strict"/>, missing and unexpected names throw). Returns
    /// the missing and unexpected names.
    /// </summary>
    public static LoadStateDictResult LoadWeights(this Module module, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var data = Safetensors.Load(path);
        return module.LoadStateDict(data.Tensors, strict);
    }
}
