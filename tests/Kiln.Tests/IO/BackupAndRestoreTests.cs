using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>BackupAndRestore driven hook by hook on compiled models, as Fit would call it.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class BackupAndRestoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-backup-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string BackupDir => System.IO.Path.Combine(_dir, "backup");

    private static Trainer Compiled(Module model)
        => Trainer.Compile(model, new Adam(model.Parameters(), lr: 1e-2), (p, t) => F.MseLoss(p, t), null);

    private static Sequential NewModel() => new(new Linear(3, 5), new BatchNorm1d(5), new Tanh(), new Linear(5, 2));

    private static void Train(Trainer trainer, int steps)
    {
        for (int i = 0; i < steps; i++)
        {
            using var scope = Engine.Scope();
            var loss = F.MseLoss(trainer.Model.Call(Tensor.Randn([8, 3])), Tensor.Randn([8, 2]));
            trainer.Optimizer.ZeroGrad();
            loss.Backward();
            trainer.Optimizer.Step();
        }
    }

    private static BackupAndRestore Attached(BackupAndRestore callback, Trainer trainer)
    {
        callback.Trainer = trainer;
        return callback;
    }

    [Fact]
    public void A_backup_restores_weights_optimizer_epoch_random_stream_and_history()
    {
        Engine.ManualSeed(11);
        var first = Compiled(NewModel());
        var backup = Attached(new BackupAndRestore(BackupDir), first);
        backup.OnTrainBegin(new Dictionary<string, double>());
        Train(first, 3);
        backup.OnEpochEnd(0, new Dictionary<string, double> { ["loss"] = 0.9, ["val_loss"] = double.NaN });
        first.History.Append(0, new Dictionary<string, double> { ["loss"] = 0.9, ["val_loss"] = double.NaN });
        Train(first, 3);
        backup.OnEpochEnd(1, new Dictionary<string, double> { ["loss"] = 0.7, ["lr"] = 0.01 });
        var rng = Engine.GetRngState();
        // What the uninterrupted run does next: two more steps.
        Train(first, 2);
        var expected = first.Model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.To(DType.Float64).ToArray<double>());

        // A new process: the same model built afresh (other initial values), the random stream elsewhere.
        Engine.ManualSeed(99);
        var second = Compiled(NewModel());
        var restore = Attached(new BackupAndRestore(BackupDir), second);
        restore.OnTrainBegin(new Dictionary<string, double>());

        Assert.Equal(1, restore.RestoredEpoch);
        Assert.Equal(2, second.InitialEpoch);
        Assert.Equal(rng, Engine.GetRngState());
        Assert.Equal([0, 1], second.History.Epochs);
        Assert.Equal([0.9, 0.7], second.History["loss"]);
        Assert.True(double.IsNaN(second.History["val_loss"][1]));
        Assert.True(double.IsNaN(second.History["lr"][0]));
        Assert.Equal(0.01, second.History["lr"][1]);
        Train(second, 2);
        foreach (var (name, tensor) in second.Model.StateDict())
            Assert.True(expected[name].SequenceEqual(tensor.To(DType.Float64).ToArray<double>()), $"{name} differs from the uninterrupted run");
    }

    [Fact]
    public void Without_a_backup_training_begins_at_the_epoch_fit_gave()
    {
        var trainer = Compiled(NewModel());
        trainer.InitialEpoch = 0;
        var callback = Attached(new BackupAndRestore(BackupDir), trainer);
        callback.OnTrainBegin(new Dictionary<string, double>());
        Assert.Null(callback.RestoredEpoch);
        Assert.Equal(0, trainer.InitialEpoch);
        Assert.False(Directory.Exists(BackupDir));
    }

    [Fact]
    public void The_backup_is_deleted_at_train_end_unless_asked_to_keep_it()
    {
        var trainer = Compiled(NewModel());
        var keep = Attached(new BackupAndRestore(System.IO.Path.Combine(_dir, "keep"), deleteOnTrainEnd: false), trainer);
        var delete = Attached(new BackupAndRestore(BackupDir), trainer);
        foreach (var callback in new[] { keep, delete })
        {
            callback.OnEpochEnd(0, new Dictionary<string, double> { ["loss"] = 1 });
            Assert.True(File.Exists(callback.BackupPath));
            callback.OnTrainEnd(new Dictionary<string, double>());
        }
        Assert.True(File.Exists(keep.BackupPath));
        Assert.False(Directory.Exists(BackupDir));
    }

    [Fact]
    public void A_backup_of_another_model_is_refused_and_changes_nothing()
    {
        var trainer = Compiled(NewModel());
        Attached(new BackupAndRestore(BackupDir), trainer).OnEpochEnd(0, new Dictionary<string, double>());
        var other = Compiled(new Sequential(new Linear(3, 6), new BatchNorm1d(6), new Tanh(), new Linear(6, 2)));
        var before = other.Model.StateDict()["0.weight"].ToArray<float>();

        var e = Assert.Throws<KilnFormatException>(() => Attached(new BackupAndRestore(BackupDir), other).OnTrainBegin(new Dictionary<string, double>()));

        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("\"0.weight\"", e.Message);
        Assert.Equal(before, other.Model.StateDict()["0.weight"].ToArray<float>());
        Assert.Empty(other.History.Epochs);
    }

    [Fact]
    public void A_damaged_backup_is_refused_with_a_format_error()
    {
        var trainer = Compiled(NewModel());
        var callback = Attached(new BackupAndRestore(BackupDir), trainer);
        callback.OnEpochEnd(3, new Dictionary<string, double> { ["loss"] = 1 });
        var bytes = File.ReadAllBytes(callback.BackupPath);
        var random = new Random(4);
        int refused = 0;
        for (int i = 0; i < 200; i++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            File.WriteAllBytes(callback.BackupPath, damaged);
            var fresh = Compiled(NewModel());
            try
            {
                Attached(new BackupAndRestore(BackupDir), fresh).OnTrainBegin(new Dictionary<string, double>());
            }
            catch (KilnFormatException)
            {
                refused++;
            }
        }
        Assert.True(refused > 100, $"only {refused} of 200 damaged backups were refused");
    }
}
