using Kiln.Compile;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Bench;

/// <summary>
/// `Kiln.Bench profile`: where the time of a training step or an inference call goes, op by op
/// (Engine.Profile's table), for the Fashion-MNIST MLP and CNN on random data after a warm-up:
///   dotnet bench/Kiln.Bench/bin/Release/net10.0/Kiln.Bench.dll profile --workload cnn-train --batch 64 --steps 20 [--eager]
/// Workloads: mlp-train, cnn-train (Adam, compiled steps unless --eager), mlp-infer, cnn-infer
/// (compiled with frozen parameters unless --eager).
/// </summary>
internal static class ProfileRun
{
    internal static int Run(string[] args)
    {
        string workload = "cnn-train";
        int batch = 64, steps = 20;
        bool eager = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--workload": workload = Value(); break;
                case "--batch": batch = int.Parse(Value()); break;
                case "--steps": steps = int.Parse(Value()); break;
                case "--eager": eager = true; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        bool cnn = workload.StartsWith("cnn", StringComparison.Ordinal);
        if (workload is not ("mlp-train" or "cnn-train" or "mlp-infer" or "cnn-infer"))
            throw new ArgumentException("--workload must be one of mlp-train, cnn-train, mlp-infer, cnn-infer");
        Engine.ManualSeed(1);
        Module model = cnn
            ? new Sequential(new Conv2d(1, 32, 5, padding: 2), new Relu(), new MaxPool2d(2), new Conv2d(32, 64, 5, padding: 2), new Relu(), new MaxPool2d(2),
                new Flatten(), new Linear(3136, 1024), new Relu(), new Dropout(0.4), new Linear(1024, 10))
            : new Sequential(new Flatten(), new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        var xs = new Tensor[8];
        var ys = new Tensor[8];
        for (int i = 0; i < xs.Length; i++)
        {
            xs[i] = Tensor.Rand([batch, 1, 28, 28]);
            ys[i] = Tensor.RandInt(10, [batch]);
        }
        Action<int> call;
        if (workload.EndsWith("train", StringComparison.Ordinal))
        {
            var optimizer = new Adam(model.Parameters(), lr: 1e-3);
            var step = Engine.CompileStep(model, Losses.CrossEntropy, optimizer);
            var loss = Tensor.Zeros([]);
            call = eager
                ? i =>
                {
                    using var scope = Engine.Scope();
                    var value = F.CrossEntropy(model.Call(xs[i % 8]), ys[i % 8]);
                    optimizer.ZeroGrad();
                    value.Backward();
                    optimizer.Step();
                }
                : i => step.StepInto(xs[i % 8], ys[i % 8], loss);
        }
        else
        {
            model.Eval();
            var compiled = Engine.Compile(model, new CompileOptions { FreezeParameters = true });
            var output = compiled.Call(xs[0]);
            call = eager
                ? i =>
                {
                    using var scope = Engine.Scope();
                    using var noGrad = Engine.NoGrad();
                    model.Call(xs[i % 8]);
                }
                : i => compiled.CallInto(xs[i % 8], output);
        }
        for (int i = 0; i < Math.Max(5, steps / 4); i++) call(i);
        using (var profile = Engine.Profile())
        {
            for (int i = 0; i < steps; i++) call(i);
            profile.Dispose();
            Console.WriteLine($"{workload} batch {batch}, {(eager ? "eager" : "compiled")}, {steps} calls, {WorkerPoolThreads()} threads: " +
                $"{profile.Elapsed.TotalMilliseconds / steps:F3} ms per call");
            Console.Write(profile.Table(top: 30));
        }
        return 0;
    }

    private static int WorkerPoolThreads() => Kernels.Cpu.WorkerPool.Shared.ThreadCount;
}
