using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>
/// Fit runs compiled training steps by default: twin models fitted eagerly (RunEagerly) and compiled from
/// the same seed end with the same parameters and history; a step that cannot compile falls back to eager
/// with one warning line.
/// </summary>
[Collection(RandomStateCollection.Name)]
public sealed class CompiledFitTests
{
    private static (Tensor X, Tensor Y) Data(int n)
    {
        var x = Tensor.Randn([n, 6]);
        var y = x.Narrow(1, 0, 3).ArgMax(1);
        return (x, y);
    }

    private static (Trainer Trainer, Module Model) Compiled(Func<Module> make, bool runEagerly, Loss? loss = null, double? clipNorm = null, double? clipValue = null)
    {
        Engine.ManualSeed(40);
        var model = make();
        var trainer = model.Compile(new Adam(lr: 0.01), loss ?? Losses.CrossEntropy, new TestAccuracy());
        trainer.RunEagerly = runEagerly;
        trainer.ClipGradNorm = clipNorm;
        trainer.ClipGradValue = clipValue;
        return (trainer, model);
    }

    private static void AssertSameParameters(Module expected, Module actual)
    {
        var a = actual.StateDict();
        foreach (var (name, tensor) in expected.StateDict())
            Kiln.Tests.Compile.CompileAssert.SameBits(tensor, a[name], name);
    }

    private static Sequential BatchNormMlp() => new(new Linear(6, 12), new BatchNorm1d(12), new Relu(), new Linear(12, 3));

    /// <summary>Fits twin models eagerly and compiled on <paramref name="samples"/> samples from the same seeds; asserts the same parameters, losses and accuracies; returns the compiled trainer.</summary>
    private static Trainer FitBothAndCompare(Func<Module> make, int samples, int batchSize, int epochs, double? clipNorm = null, double? clipValue = null)
    {
        Engine.ManualSeed(41);
        var (x, y) = Data(samples);
        var (eagerTrainer, eager) = Compiled(make, runEagerly: true, clipNorm: clipNorm, clipValue: clipValue);
        var (compiledTrainer, compiled) = Compiled(make, runEagerly: false, clipNorm: clipNorm, clipValue: clipValue);
        Engine.ManualSeed(42);
        var eagerHistory = eagerTrainer.Fit(x, y, batchSize: batchSize, epochs: epochs, verbose: 0);
        Engine.ManualSeed(42);
        var compiledHistory = compiledTrainer.Fit(x, y, batchSize: batchSize, epochs: epochs, verbose: 0);
        AssertSameParameters(eager, compiled);
        Assert.Equal(eagerHistory["loss"], compiledHistory["loss"]);
        Assert.Equal(eagerHistory["accuracy"], compiledHistory["accuracy"]);
        Assert.Equal(0, eagerTrainer.StepTraceCount);
        return compiledTrainer;
    }

    [Fact]
    public void Compiled_Fit_with_dropout_matches_eager_Fit()
    {
        var trainer = FitBothAndCompare(() => new Sequential(new Linear(6, 12), new Relu(), new Dropout(0.3), new Linear(12, 3)), samples: 40, batchSize: 8, epochs: 2);
        Assert.Equal(1, trainer.StepTraceCount);
    }

    [Fact]
    public void Compiled_Fit_matches_eager_Fit_and_traces_again_only_for_the_last_smaller_batch()
    {
        var trainer = FitBothAndCompare(BatchNormMlp, samples: 70, batchSize: 16, epochs: 3);
        Assert.Equal(2, trainer.StepTraceCount); // batches of 16, then the last 6 samples
    }

    [Fact]
    public void Compiled_Fit_with_gradient_clipping_matches_eager_Fit_with_the_same_clipping_and_differs_from_no_clipping()
    {
        var clipped = FitBothAndCompare(BatchNormMlp, samples: 40, batchSize: 8, epochs: 2, clipNorm: 0.05, clipValue: 0.02);
        Assert.Equal(1, clipped.StepTraceCount);
        var plain = FitBothAndCompare(BatchNormMlp, samples: 40, batchSize: 8, epochs: 2);
        Assert.NotEqual(plain.History["loss"], clipped.History["loss"]);
    }

    [Fact]
    public void Fit_refuses_a_negative_clip_value_naming_it()
    {
        var (trainer, _) = Compiled(BatchNormMlp, runEagerly: false, clipValue: -1);
        var (x, y) = Data(8);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0));
        Assert.Contains("ClipGradValue", e.Message);
    }

    [Fact]
    public void A_model_whose_step_does_not_compile_trains_eagerly_after_one_warning_line()
    {
        static Sequential Mlp() => new(new Linear(6, 12), new Relu(), new Dropout(0.3), new Linear(12, 3));
        // A loss that reads a value into C# (to branch on it) cannot be traced.
        Loss reading = (p, t) => F.CrossEntropy(p, t) * (p.Sum().Item() > 1e30 ? 2.0 : 1.0);
        Engine.ManualSeed(43);
        var (x, y) = Data(48);
        var (eagerTrainer, eager) = Compiled(Mlp, runEagerly: true, reading);
        var (compiledTrainer, compiled) = Compiled(Mlp, runEagerly: false, reading);
        var output = new StringWriter { NewLine = "\n" };
        compiledTrainer.ProgressOutput = output;
        compiledTrainer.ProgressInPlace = false;
        eagerTrainer.ProgressOutput = new StringWriter();
        eagerTrainer.ProgressInPlace = false;

        Engine.ManualSeed(44);
        eagerTrainer.Fit(x, y, batchSize: 16, epochs: 2, verbose: 2);
        Engine.ManualSeed(44);
        compiledTrainer.Fit(x, y, batchSize: 16, epochs: 2, verbose: 2);

        var warnings = output.ToString().Split('\n').Where(line => line.Contains("could not be compiled")).ToList();
        Assert.Single(warnings);
        Assert.Contains("reads a value", warnings[0]);
        AssertSameParameters(eager, compiled);
    }

    [Fact]
    public void A_silent_Fit_falls_back_without_writing_anything()
    {
        var (x, y) = Data(16);
        var (trainer, _) = Compiled(() => new Sequential(new Linear(6, 4), new Linear(4, 3)), runEagerly: false,
            (p, t) => F.CrossEntropy(p, t) * (p.Sum().Item() > 1e30 ? 2.0 : 1.0));
        var output = new StringWriter();
        trainer.ProgressOutput = output;
        var history = trainer.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0);
        Assert.Equal("", output.ToString());
        Assert.True(double.IsFinite(history["loss"][0]));
    }
}
