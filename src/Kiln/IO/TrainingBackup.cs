using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.IO;

/// <summary>
/// The file <see cref="BackupAndRestore"/> keeps: everything a resumed Fit needs to continue exactly,
/// in one zip archive replaced atomically, so a run killed at any moment leaves either the previous
/// epoch's backup or the new one, never a mix. Entries: <c>backup.json</c> (the completed epoch, the
/// random stream's state, the history so far), <c>model.safetensors</c> (the state dict) and
/// <c>optimizer.safetensors</c> (the optimizer's state in its flat form). It holds no architecture:
/// the model is rebuilt by the program that resumes, so models of any module type can be backed up.
/// </summary>
internal static class TrainingBackup
{
    private const string FormatName = "kiln.training_backup";
    private const int FormatVersion = 1;
    private const string StateEntry = "backup.json";
    private const long MaxStateBytes = 64L << 20;
    private static readonly string[] Entries = [StateEntry, SavedModel.ModelEntry, SavedModel.OptimizerEntry];

    /// <summary>Writes the backup of <paramref name="trainer"/> after <paramref name="epoch"/> (whose logs the trainer's history does not hold yet) to <paramref name="path"/>, atomically.</summary>
    public static void Write(string path, Trainer trainer, int epoch, IDictionary<string, double> logs, RngState rng)
    {
        var json = StateJson(trainer.History, epoch, logs, rng);
        var state = trainer.Model.StateDict();
        using var optimizerState = trainer.Optimizer.StateDict();
        try
        {
            AtomicFile.Write(path, stream => KilnArchive.Write(stream,
            [
                (StateEntry, s => s.Write(json)),
                (SavedModel.ModelEntry, s => Safetensors.Write(s, state)),
                (SavedModel.OptimizerEntry, s => Safetensors.Write(s, optimizerState.FlatTensors(), optimizerState.FlatMetadata())),
            ]));
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    private static byte[] StateJson(History history, int epoch, IDictionary<string, double> logs, RngState rng)
    {
        var names = history.Keys.ToList();
        foreach (var name in logs.Keys)
            if (!names.Contains(name)) names.Add(name);
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("format", FormatName);
            w.WriteNumber("format_version", FormatVersion);
            w.WriteNumber("epoch", epoch);
            w.WriteStartObject("rng");
            w.WriteNumber("seed", rng.Seed);
            w.WriteNumber("counter", rng.Counter);
            w.WriteEndObject();
            w.WriteStartObject("history");
            w.WriteStartArray("epochs");
            foreach (var e in history.Epochs) w.WriteNumberValue(e);
            w.WriteNumberValue(epoch);
            w.WriteEndArray();
            w.WriteStartObject("values");
            foreach (var name in names)
            {
                w.WriteStartArray(name);
                if (history.Contains(name))
                    foreach (var v in history[name]) ConfigObject.WriteDoubleValue(w, v);
                else
                    for (int i = 0; i < history.Epochs.Count; i++) ConfigObject.WriteDoubleValue(w, double.NaN);
                ConfigObject.WriteDoubleValue(w, logs.TryGetValue(name, out var value) ? value : double.NaN);
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads the backup at <paramref name="path"/> into <paramref name="trainer"/>'s model, optimizer and
    /// history (each checked in full before any is changed) and returns the completed epoch and the
    /// random stream's state.
    /// </summary>
    public static (int Epoch, RngState Rng) Restore(string path, Trainer trainer)
    {
        var source = $"training backup '{path}'";
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        using var archive = KilnArchive.Open(file, source, Entries);
        var (epoch, rng, epochs, values) = ReadState(archive.ReadBytes(StateEntry, MaxStateBytes), source);
        using var weights = archive.ReadSafetensors(SavedModel.ModelEntry);
        CheckWeights(trainer.Model, weights, $"{source}: {SavedModel.ModelEntry}");
        using var optimizerData = archive.ReadSafetensors(SavedModel.OptimizerEntry);
        // The optimizer state is loaded first: it checks everything before it changes anything, and
        // the weights (checked above) cannot fail to load after it.
        try
        {
            trainer.Optimizer.LoadStateDict(OptimizerStateDict.FromFlat(optimizerData.Tensors, optimizerData.Metadata));
        }
        catch (KilnException e)
        {
            throw new KilnFormatException($"{source}: {SavedModel.OptimizerEntry}: {e.Message}");
        }
        trainer.Model.LoadStateDict(weights.Tensors);
        for (int i = 0; i < epochs.Length; i++)
        {
            var logs = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var (name, list) in values) logs[name] = list[i];
            trainer.History.Append(epochs[i], logs);
        }
        return (epoch, rng);
    }

    // The backup must fit the model exactly: it was written by the same program for the same model.
    private static void CheckWeights(Module model, SafetensorsData weights, string source)
    {
        var state = model.StateDict();
        try
        {
            foreach (var (name, tensor) in state)
            {
                if (!weights.Tensors.TryGetValue(name, out var saved))
                    throw new KilnFormatException($"{source}: the model has the tensor \"{name}\", which the backup lacks (was the backup written for another model?)");
                if (saved.Shape != tensor.Shape || saved.DType != tensor.DType)
                    throw new KilnFormatException($"{source}: tensor \"{name}\" is {saved.Shape} {saved.DType.Name()} in the backup but {tensor.Shape} {tensor.DType.Name()} in the model");
            }
            foreach (var name in weights.Tensors.Keys)
                if (!state.ContainsKey(name))
                    throw new KilnFormatException($"{source}: the backup has the tensor {ConfigObject.Quote(name)}, which the model does not (was the backup written for another model?)");
        }
        finally
        {
            foreach (var t in state.Values) t.Dispose();
        }
    }

    private static (int Epoch, RngState Rng, int[] Epochs, List<(string Name, double[] Values)> Values) ReadState(byte[] json, string source)
    {
        using var document = ConfigObject.Parse(json, $"{source}: {StateEntry}", maxDepth: 8);
        var root = ConfigObject.Of(document.RootElement, $"{source}: {StateEntry}");
        root.CheckFormat(FormatName, FormatVersion);
        int epoch = root.Int("epoch", 0);
        var rngObject = root.Object("rng", $"{root.Where}: rng");
        var rng = new RngState(UInt64(rngObject, "seed"), UInt64(rngObject, "counter"));
        rngObject.Finish();

        var history = root.Object("history", $"{root.Where}: history");
        var epochs = history.IntArray("epochs", 0, int.MaxValue, epoch + 1);
        if (epochs.Length == 0 || epochs[^1] != epoch)
            throw history.Error("epochs", $"does not end with the backup's epoch {epoch}");
        var valuesObject = history.Object("values", $"{history.Where}: values");
        var values = new List<(string, double[])>();
        foreach (var name in valuesObject.Keys.ToList())
        {
            var list = valuesObject.Array(name, epochs.Length);
            if (list.GetArrayLength() != epochs.Length)
                throw valuesObject.Error(name, $"has {list.GetArrayLength()} values for {epochs.Length} epochs");
            var numbers = new double[epochs.Length];
            for (int i = 0; i < numbers.Length; i++) numbers[i] = valuesObject.DoubleValue(list[i], name, finite: false);
            values.Add((name, numbers));
        }
        valuesObject.Finish();
        history.Finish();
        root.Finish();
        return (epoch, rng, epochs, values);
    }

    private static ulong UInt64(ConfigObject c, string name)
    {
        var value = c.Required(name);
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt64(out ulong n))
            throw c.Error(name, $"is {ConfigObject.Describe(value)}; expected an integer in [0, 2^64)");
        return n;
    }
}
