using System.Globalization;
using Kiln;
using Kiln.Data;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

// Trains a small regression model with Fit, BackupAndRestore and ModelCheckpoint in the directory
// given, then writes the final weights (final.safetensors) and the history (history.txt), and
// prints whether it resumed from a backup ("resumed after epoch N") or not. With
// "--block-at EPOCH:BATCH" it writes "ready" after that batch of that epoch (0-based) and waits to be
// killed. Every run with the same arguments computes the same bits; a run killed and started again
// resumes from its last backup and must end with the same bits as one never interrupted.
if (args.Length is not (1 or 3) || args.Length == 3 && args[1] != "--block-at")
{
    Console.Error.WriteLine("usage: Kiln.TrainingProcess DIRECTORY [--block-at EPOCH:BATCH]");
    return 2;
}
var directory = args[0];
(int Epoch, int Batch)? blockAt = null;
if (args.Length == 3)
{
    var parts = args[2].Split(':');
    blockAt = (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
}

Engine.ManualSeed(20240611);
using var x = Tensor.Randn([160, 6]);
using var w = Tensor.Randn([6, 2]);
using var y = x.MatMul(w).Tanh() + Tensor.Randn([160, 2]) * 0.05;
// Unseeded and shuffled: each epoch's order comes from the random stream, which the backup restores.
var train = new DataLoader(new TensorDataset(x, y), batchSize: 16, shuffle: true);
var model = new Sequential(new Linear(6, 24), new Relu(), new Dropout(0.25), new Linear(24, 2));
model.Compile(new Adam(model.Parameters(), lr: 1e-2), Losses.MeanSquaredError);

var backup = new BackupAndRestore(Path.Combine(directory, "backup"));
List<Callback> callbacks =
[
    backup,
    new ModelCheckpoint(Path.Combine(directory, "ckpt", "epoch{epoch:02d}-{loss:.4f}.safetensors"), monitor: "loss", saveWeightsOnly: true),
];
if (blockAt is { } point) callbacks.Add(new BlockAt(point.Epoch, point.Batch, Path.Combine(directory, "ready")));

var history = model.Fit(train, epochs: 6, verbose: 0, callbacks: callbacks);
Console.WriteLine(backup.RestoredEpoch is { } restored ? $"resumed after epoch {restored}" : "started afresh");
model.SaveWeights(Path.Combine(directory, "final.safetensors"));
File.WriteAllLines(Path.Combine(directory, "history.txt"),
    history.Epochs.Select((epoch, i) => $"{epoch} {history["loss"][i].ToString("R", CultureInfo.InvariantCulture)}"));
return 0;

/// <summary>Stops the run in the middle of an epoch, after telling the test it may kill it.</summary>
internal sealed class BlockAt(int epoch, int batch, string readyFile) : Callback
{
    private int _epoch;

    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs) => _epoch = epoch;

    public override void OnTrainBatchEnd(int batch1, IDictionary<string, double> logs)
    {
        if (_epoch != epoch || batch1 != batch) return;
        File.WriteAllText(readyFile, $"{epoch}:{batch}");
        Thread.Sleep(Timeout.Infinite);
    }
}
