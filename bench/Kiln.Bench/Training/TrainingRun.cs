using System.Diagnostics;
using System.Text.Json;
using Kiln.Data;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Bench.Training;

/// <summary>
/// Kiln's side of the training benchmark (bench/README.md, "train"): trains one workload on real
/// Fashion-MNIST with the same recipe as bench/peers/torch_train.py and prints one JSON line with
/// images per second over each full epoch, test accuracy after each epoch, the wall time at which test
/// accuracy first reached the target, and the process's peak RSS.
/// </summary>
internal static class TrainingRun
{
    internal static readonly string[] Workloads = ["mlp-b64", "mlp-b256", "cnn-b64"];

    internal const string Usage = """
        Kiln.Bench train --workload mlp-b64|mlp-b256|cnn-b64 [--epochs N] [--target ACC] [--evals-per-epoch K] [--seed N] [--workers N] [--data DIR] [--compiled]
            Trains one workload at KILN_NUM_THREADS threads and prints one JSON line. --compiled runs each
            step through Engine.CompileStep (forward, backward and Adam replayed from one plan) instead of eagerly.
        """;

    internal static int Run(string[] args)
    {
        string? workload = null, data = null;
        int epochs = 1, seed = 0, evalsPerEpoch = 1, workers = 0;
        bool compiled = false;
        double? target = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--workload": workload = Value(); break;
                case "--epochs": epochs = int.Parse(Value()); break;
                case "--target": target = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                case "--seed": seed = int.Parse(Value()); break;
                case "--evals-per-epoch": evalsPerEpoch = Math.Max(1, int.Parse(Value())); break;
                case "--workers": workers = Math.Max(0, int.Parse(Value())); break;
                case "--data": data = Value(); break;
                case "--compiled": compiled = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (workload is null || Array.IndexOf(Workloads, workload) < 0)
            throw new ArgumentException($"--workload must be one of {string.Join(", ", Workloads)}");

        Engine.ManualSeed((ulong)seed);
        using var dataset = FashionMnist.Load(data);
        int batch = workload == "mlp-b256" ? 256 : 64;
        var model = Build(workload);
        using var optimizer = new Adam(model.Parameters(), lr: 1e-3);
        // The images stay uint8 (a quarter of float32's memory, as torchvision keeps them); each batch is
        // converted as it is used, to exactly the floats TrainImages would hold.
        var train = new TensorDataset(dataset.TrainPixels, dataset.TrainLabels);
        var toFloat = new ToTensor(ImageLayout.Chw);
        // --workers N gathers batches ahead on loader threads (the same batches); on 2 cores busy with the
        // step it measured no steadier gain (MLP b256: 110-137k images/s with one, 135-141k without).
        var loader = new DataLoader(train, batchSize: batch, shuffle: true, seed: (ulong)seed, numWorkers: workers);
        using var step = compiled ? Engine.CompileStep(model, Losses.CrossEntropy, optimizer) : null;

        var results = new List<Dictionary<string, object>>();
        double wall = 0;
        double? reached = null;
        int count = dataset.TrainLabels.NumElements, batches = (count + batch - 1) / batch;
        var checks = new List<Dictionary<string, object>>();
        var runClock = Stopwatch.StartNew();
        for (int epoch = 1; epoch <= epochs && reached is null; epoch++)
        {
            var clock = Stopwatch.StartNew();
            double lossSum = 0, evaluating = 0;
            int done = 0;
            foreach (var (pixels, y) in loader)
            {
                // With --evals-per-epoch K, test accuracy is also checked after each K-th of the epoch (the time
                // to target then resolves fractions of an epoch); those evaluations count in the wall time only.
                if (target is { } goal && evalsPerEpoch > 1 && done > 0 && done % ((batches + evalsPerEpoch - 1) / evalsPerEpoch) == 0)
                {
                    var evalClock = Stopwatch.StartNew();
                    double partial = Evaluate(model, toFloat, dataset.TestPixels, dataset.TestLabels);
                    evaluating += evalClock.Elapsed.TotalSeconds;
                    checks.Add(new() { ["epoch"] = epoch - 1 + (double)done / batches, ["test_accuracy"] = partial, ["wall"] = runClock.Elapsed.TotalSeconds });
                    if (partial >= goal)
                    {
                        reached = runClock.Elapsed.TotalSeconds;
                        break;
                    }
                }
                done++;
                using var scope = Engine.Scope();
                var x = toFloat.Apply(pixels);
                if (step is not null)
                {
                    lossSum += step.Step(x, y).Item() * y.NumElements;
                    continue;
                }
                var loss = F.CrossEntropy(model.Call(x), y);
                optimizer.ZeroGrad();
                loss.Backward();
                optimizer.Step();
                lossSum += loss.Item() * y.NumElements;
            }
            if (reached is not null) break;
            double seconds = clock.Elapsed.TotalSeconds - evaluating;
            double accuracy = Evaluate(model, toFloat, dataset.TestPixels, dataset.TestLabels);
            wall = runClock.Elapsed.TotalSeconds;
            results.Add(new()
            {
                ["epoch"] = epoch, ["seconds"] = seconds, ["images_per_s"] = count / seconds,
                ["loss"] = lossSum / count, ["test_accuracy"] = accuracy,
            });
            checks.Add(new() { ["epoch"] = (double)epoch, ["test_accuracy"] = accuracy, ["wall"] = wall });
            Console.Error.WriteLine($"epoch {epoch}: {count / seconds:F0} images/s, test accuracy {accuracy:F4}");
            if (target is { } t && accuracy >= t) reached = wall;
        }

        var pool = Engine.MemoryStats();
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "train", ["impl"] = compiled ? "kiln-compiled" : "kiln", ["workload"] = workload, ["threads"] = KilnThreads(), ["batch"] = batch,
            ["workers"] = workers, ["epochs"] = results, ["seconds_to_target"] = reached, ["target"] = target, ["evals_per_epoch"] = evalsPerEpoch, ["checks"] = checks,
            ["peak_rss_mb"] = Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0),
            // Where the memory went: tensor buffers (live at peak, cached now) and the managed heap's committed bytes.
            ["pool_peak_mb"] = pool.PeakBytesInUse / (1024.0 * 1024.0),
            ["pool_cached_mb"] = pool.BytesCached / (1024.0 * 1024.0),
            ["gc_committed_mb"] = GC.GetGCMemoryInfo().TotalCommittedBytes / (1024.0 * 1024.0),
        }));
        return 0;
    }

    /// <summary>The recipes of torch_train.py: the MLP 784-256-128-10 and the Fashion-MNIST benchmark CNN.</summary>
    private static Module Build(string workload) => workload.StartsWith("mlp", StringComparison.Ordinal)
        ? new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10))
        : new Sequential(
            new Conv2d(1, 32, 5, padding: 2), new Relu(), new MaxPool2d(2),
            new Conv2d(32, 64, 5, padding: 2), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(64 * 7 * 7, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10));

    /// <summary>Test accuracy, converting the uint8 test images 1000 at a time.</summary>
    private static double Evaluate(Module model, ToTensor toFloat, Tensor pixels, Tensor labels)
    {
        model.Eval();
        using var noGrad = Engine.NoGrad();
        long correct = 0;
        int n = labels.NumElements;
        for (int start = 0; start < n; start += 1000)
        {
            using var scope = Engine.Scope();
            int count = Math.Min(1000, n - start);
            correct += (long)model.Call(toFloat.Apply(pixels.Narrow(0, start, count))).ArgMax(1).Eq(labels.Narrow(0, start, count)).Sum().Item();
        }
        // Batches of 1000 leave buffers far larger than a training step's in the tensor pool, which would
        // keep them for the rest of the run; give them back (as PyTorch's CPU allocator does on free).
        Engine.EmptyCache();
        model.Train();
        return (double)correct / n;
    }

    private static int KilnThreads() => Kernels.Cpu.WorkerPool.Shared.ThreadCount;
}
