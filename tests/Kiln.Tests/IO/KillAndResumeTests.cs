using System.Diagnostics;
using System.Text;
using Kiln.Tests.Kernels;

namespace Kiln.Tests.IO;

/// <summary>
/// The acceptance test of BackupAndRestore: a real Fit in a child process (tests/Kiln.TrainingProcess)
/// is killed with SIGKILL in the middle of an epoch, started again, and must end with the same weights,
/// bit for bit, as a run with the same seed that was never interrupted. The runs are processes of their
/// own, so nothing else in this test process (other tests drawing random numbers) can disturb them.
/// </summary>
public sealed class KillAndResumeTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-kill-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Run : IDisposable
    {
        private readonly StringBuilder _output = new();

        public Run(string directory, params string[] extra)
        {
            var start = new ProcessStartInfo(IsaRerun.DotnetHost())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "Kiln.TrainingProcess.dll"));
            start.ArgumentList.Add(directory);
            foreach (var arg in extra) start.ArgumentList.Add(arg);
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            Process = new Process { StartInfo = start };
            Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output
        {
            get
            {
                lock (_output) return _output.ToString();
            }
        }

        /// <summary>Waits for a normal end and returns what the run printed.</summary>
        public string Finish()
        {
            Assert.True(Process.WaitForExit(Limit), $"the training run did not end within {Limit.TotalSeconds} s:\n{Output}");
            Process.WaitForExit();
            Assert.True(Process.ExitCode == 0, $"the training run failed with exit code {Process.ExitCode}:\n{Output}");
            return Output;
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill(entireProcessTree: true);
            Process.Dispose();
        }
    }

    [Fact]
    public void Fit_killed_mid_epoch_and_restarted_ends_with_the_weights_of_an_uninterrupted_run()
    {
        var uninterruptedDir = System.IO.Path.Combine(_dir, "uninterrupted");
        var killedDir = System.IO.Path.Combine(_dir, "killed");
        Directory.CreateDirectory(uninterruptedDir);
        Directory.CreateDirectory(killedDir);
        var ready = System.IO.Path.Combine(killedDir, "ready");
        var backup = System.IO.Path.Combine(killedDir, "backup", "backup.zip");

        using var uninterrupted = new Run(uninterruptedDir);
        using (var killed = new Run(killedDir, "--block-at", "2:4"))
        {
            // The run stops after batch 4 of epoch 2 (0-based): epochs 0 and 1 are backed up, epoch 2 is half done.
            var clock = Stopwatch.StartNew();
            while (!File.Exists(ready))
            {
                Assert.False(killed.Process.HasExited, $"the training run ended before it was killed:\n{killed.Output}");
                Assert.True(clock.Elapsed < Limit, $"the training run did not reach epoch 2 within {Limit.TotalSeconds} s:\n{killed.Output}");
                Thread.Sleep(20);
            }
            Assert.True(File.Exists(backup), "no backup was written before the kill");
            // SIGKILL on Linux and macOS: no handler, finalizer or flush runs.
            killed.Process.Kill();
            Assert.True(killed.Process.WaitForExit(Limit));
        }
        Assert.False(File.Exists(System.IO.Path.Combine(killedDir, "final.safetensors")));
        Assert.Equal(["epoch01", "epoch02"], Checkpoints(killedDir).Select(name => name[..7]));

        using var resumed = new Run(killedDir);
        var resumedOutput = resumed.Finish();
        var uninterruptedOutput = uninterrupted.Finish();

        Assert.Contains("resumed after epoch 1", resumedOutput);
        Assert.Contains("started afresh", uninterruptedOutput);
        Assert.Equal(File.ReadAllBytes(System.IO.Path.Combine(uninterruptedDir, "final.safetensors")),
            File.ReadAllBytes(System.IO.Path.Combine(killedDir, "final.safetensors")));
        Assert.Equal(File.ReadAllLines(System.IO.Path.Combine(uninterruptedDir, "history.txt")),
            File.ReadAllLines(System.IO.Path.Combine(killedDir, "history.txt")));
        // The same checkpoints (their names carry the epoch's loss), the last one with the same bytes.
        Assert.Equal(Checkpoints(uninterruptedDir), Checkpoints(killedDir));
        Assert.Equal(6, Checkpoints(killedDir).Length);
        var last = Checkpoints(killedDir)[^1];
        Assert.Equal(File.ReadAllBytes(System.IO.Path.Combine(uninterruptedDir, "ckpt", last)), File.ReadAllBytes(System.IO.Path.Combine(killedDir, "ckpt", last)));
        // The backup is deleted once the run completes.
        Assert.False(Directory.Exists(System.IO.Path.Combine(killedDir, "backup")));
    }

    private static string[] Checkpoints(string directory)
        => Directory.GetFiles(System.IO.Path.Combine(directory, "ckpt")).Select(f => System.IO.Path.GetFileName(f)).Order().ToArray();
}
