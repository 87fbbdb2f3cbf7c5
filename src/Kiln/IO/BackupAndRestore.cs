using Kiln.Models;

namespace Kiln.IO;

/// <summary>
/// Makes a Fit survive being killed (Keras's <c>keras.callbacks.BackupAndRestore</c>): at the end of
/// each epoch it writes a backup of the model's weights, the optimizer's state, the completed epoch,
/// the random stream's state (<see cref="Engine.GetRngState"/>) and the history so far, as one file
/// replaced atomically; when a Fit begins and a backup exists, it loads all of it, moves
/// <see cref="Trainer.InitialEpoch"/> to the next epoch and puts the random stream back, so that the
/// resumed Fit computes what the uninterrupted one would have, bit for bit (a data loader's order
/// depends on its seed and the epoch, which Fit sets; unseeded loaders and dropout draw from the
/// random stream, which the backup restores).
/// <para>
/// The program that resumes builds and compiles the same model and calls Fit with the same
/// arguments; a backup written for another model is refused with a <see cref="KilnFormatException"/>.
/// Backups are taken at epoch ends only (an interrupted epoch is run again from its start), and the
/// state of other callbacks (EarlyStopping's patience, ModelCheckpoint's best value) is not part of
/// the backup, as in Keras.
/// </para>
/// </summary>
public sealed class BackupAndRestore : Callback
{
    /// <summary>The name of the backup file in <see cref="BackupDir"/>.</summary>
    public const string FileName = "backup.zip";

    /// <summary>Backs up to the directory <paramref name="backupDir"/> (created when needed); with <paramref name="deleteOnTrainEnd"/> the backup is deleted when a Fit ends normally, so the next Fit starts afresh.</summary>
    public BackupAndRestore(string backupDir, bool deleteOnTrainEnd = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(backupDir);
        BackupDir = backupDir;
        DeleteOnTrainEnd = deleteOnTrainEnd;
    }

    /// <summary>The directory that holds the backup.</summary>
    public string BackupDir { get; }

    /// <summary>Whether the backup is deleted when a Fit ends normally (not when it is killed or throws).</summary>
    public bool DeleteOnTrainEnd { get; }

    /// <summary>The backup file.</summary>
    public string BackupPath => Path.Combine(BackupDir, FileName);

    /// <summary>The epoch (0-based) the last Fit resumed after, or null when it found no backup.</summary>
    public int? RestoredEpoch { get; private set; }

    /// <summary>Restores the backup when there is one.</summary>
    /// <exception cref="KilnFormatException">The backup is damaged or was written for another model; delete <see cref="BackupDir"/> to start afresh.</exception>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        RestoredEpoch = null;
        if (!File.Exists(BackupPath)) return;
        var (epoch, rng) = TrainingBackup.Restore(BackupPath, Trainer);
        Trainer.InitialEpoch = epoch + 1;
        Engine.SetRngState(rng);
        RestoredEpoch = epoch;
    }

    /// <summary>Writes the backup of the epoch just completed.</summary>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        Directory.CreateDirectory(BackupDir);
        TrainingBackup.Write(BackupPath, Trainer, epoch, logs, Engine.GetRngState());
    }

    /// <summary>Deletes the backup when <see cref="DeleteOnTrainEnd"/> is set, and the directory when that leaves it empty.</summary>
    public override void OnTrainEnd(IDictionary<string, double> logs)
    {
        if (!DeleteOnTrainEnd || !Directory.Exists(BackupDir)) return;
        File.Delete(BackupPath);
        // Temporary files of writes that a kill interrupted (AtomicFile names them ".backup.zip.<guid>.tmp").
        foreach (var stale in Directory.EnumerateFiles(BackupDir, $".{FileName}.*.tmp")) File.Delete(stale);
        if (!Directory.EnumerateFileSystemEntries(BackupDir).Any()) Directory.Delete(BackupDir);
    }
}
