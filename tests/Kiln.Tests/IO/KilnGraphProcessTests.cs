using System.Diagnostics;
using Kiln.IO;
using Kiln.NN;
using Kiln.Tests.Compile;
using Kiln.Tests.Kernels;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.IO;

/// <summary>
/// A .kiln file runs where the code that built it is absent: a model of a module class defined only
/// in this test assembly is saved here, and loaded and run by another process
/// (tests/Kiln.GraphRunner) that references Kiln alone; its results are the eager bits.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class KilnGraphProcessTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly string _dir = Directory.CreateTempSubdirectory("kiln-graph-process-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A module of the test's own: two branches, a residual connection and a gate.</summary>
    private sealed class GatedResidual : Module
    {
        public Linear Value { get; } = new(6, 6);
        public Linear Gate { get; } = new(6, 6);
        public Linear Head { get; } = new(6, 3);

        public override Tensor Forward(Tensor input)
            => Head.Call(input + Value.Call(input).Relu() * Gate.Call(input).Sigmoid()).LogSoftmax(1);
    }

    [Fact]
    public async Task A_saved_model_of_a_class_only_this_assembly_has_runs_in_a_process_with_only_kiln()
    {
        Engine.ManualSeed(12);
        var model = new GatedResidual();
        model.Eval();
        var modelPath = System.IO.Path.Combine(_dir, "gated.kiln");
        KilnGraphFile.Save(model, CompileAssert.Uniform(0, 4, 6), modelPath);

        var x = CompileAssert.Uniform(1, 4, 6);
        var inputsPath = System.IO.Path.Combine(_dir, "inputs.safetensors");
        var outputsPath = System.IO.Path.Combine(_dir, "outputs.safetensors");
        Safetensors.Save(inputsPath, [new("input0", x)]);

        var start = new ProcessStartInfo(IsaRerun.DotnetHost())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "Kiln.GraphRunner.dll"));
        start.ArgumentList.Add(modelPath);
        start.ArgumentList.Add(inputsPath);
        start.ArgumentList.Add(outputsPath);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            using var timeout = new CancellationTokenSource(Limit);
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        var (printed, complaints) = (await output, await error);
        Assert.True(process.ExitCode == 0, $"the graph runner failed ({process.ExitCode}):\n{printed}\n{complaints}");
        Assert.Contains("ran graph GatedResidual(%in0: [4,6] f32) on 1 inputs", printed);

        using var results = Safetensors.Load(outputsPath);
        using (Engine.NoGrad())
            CompileAssert.SameBits(model.Call(x), results.Tensors["output0"], "the other process's result");
    }
}
