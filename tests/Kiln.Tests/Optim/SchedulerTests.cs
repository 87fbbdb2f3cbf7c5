using Kiln.Optim;

namespace Kiln.Tests.Optim;

/// <summary>Each schedule's learning rates (and cycled momentum) for 40 steps equal PyTorch 1.13's.</summary>
public sealed class SchedulerTests
{
    private const int Steps = 40;

    /// <summary>The optimizer of ScheduleReference: two groups with lr 0.1 and 0.05, SGD with momentum 0.9 or Adam.</summary>
    private static Optimizer MakeOptimizer(bool adam = false)
    {
        var a = Tensor.Zeros([3]).DetachFromScope();
        var b = Tensor.Zeros([2]).DetachFromScope();
        ParamGroup[] groups = [new ParamGroup([a]), new ParamGroup([b]) { Lr = 0.05 }];
        return adam ? new Adam(groups, lr: 0.1) : new Sgd(groups, lr: 0.1, momentum: 0.9);
    }

    private static double MomentumOf(Optimizer o)
        => o.ParamGroups[0].Contains("beta1") ? o.ParamGroups[0].Beta1 : o.ParamGroups[0].Momentum;

    public static TheoryData<string> Schedules() =>
    [
        "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingLRNoFloor", "LinearWarmup", "LinearDecay",
        "OneCycleLR", "OneCycleLRLinearThreePhase", "OneCycleLRNoMomentum",
    ];

    private static (Optimizer, LRScheduler) Make(string name)
    {
        var optimizer = MakeOptimizer(adam: name is "OneCycleLRLinearThreePhase" or "OneCycleLRNoMomentum");
        LRScheduler scheduler = name switch
        {
            "StepLR" => new StepLR(optimizer, stepSize: 7, gamma: 0.5),
            "MultiStepLR" => new MultiStepLR(optimizer, [3, 10, 10, 25], gamma: 0.3),
            "ExponentialLR" => new ExponentialLR(optimizer, gamma: 0.9),
            "CosineAnnealingLR" => new CosineAnnealingLR(optimizer, tMax: 10, etaMin: 0.001),
            "CosineAnnealingLRNoFloor" => new CosineAnnealingLR(optimizer, tMax: 7),
            "LinearWarmup" => new LinearWarmup(optimizer, startFactor: 0.25, endFactor: 1.0, warmupSteps: 8),
            "LinearDecay" => new LinearWarmup(optimizer, startFactor: 0.5, endFactor: 0.2, warmupSteps: 10),
            "OneCycleLR" => new OneCycleLR(optimizer, maxLr: 0.5, totalSteps: Steps + 1),
            "OneCycleLRLinearThreePhase" => new OneCycleLR(optimizer, maxLr: 0.3, totalSteps: Steps + 1, pctStart: 0.25, annealStrategy: AnnealStrategy.Linear,
                threePhase: true, baseMomentum: 0.8, maxMomentum: 0.9, divFactor: 10, finalDivFactor: 100),
            "OneCycleLRNoMomentum" => new OneCycleLR(optimizer, maxLr: 0.2, totalSteps: Steps, cycleMomentum: false),
            _ => throw new ArgumentException(name),
        };
        return (optimizer, scheduler);
    }

    private static double[][] Expected(string name)
        => (double[][])typeof(ScheduleReference).GetField(name, System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.NonPublic)!.GetValue(null)!;

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Schedule_matches_pytorch_for_40_steps(string name)
    {
        var expected = Expected(name);
        var (optimizer, scheduler) = Make(name);
        using var _ = optimizer;
        for (int step = 0; step <= Steps; step++)
        {
            if (step > 0) scheduler.Step();
            double[] actual = [.. scheduler.LastLr, MomentumOf(optimizer)];
            Assert.True(expected[step].SequenceEqual(actual),
                $"{name} after {step} steps: expected [{string.Join(", ", expected[step].Select(v => v.ToString("R")))}], got [{string.Join(", ", actual.Select(v => v.ToString("R")))}]");
            Assert.Equal(scheduler.LastLr, optimizer.ParamGroups.Select(g => g.Lr));
        }
        Assert.Equal(Steps, scheduler.LastEpoch);
    }

    public static TheoryData<string> Plateaus() => ["PlateauMinRel", "PlateauMaxAbs", "PlateauMinAbsEps"];

    [Theory]
    [MemberData(nameof(Plateaus))]
    public void Reduce_on_plateau_matches_pytorch_for_40_steps(string name)
    {
        var expected = Expected(name);
        using var optimizer = MakeOptimizer();
        var scheduler = name switch
        {
            "PlateauMinRel" => new ReduceLROnPlateau(optimizer, PlateauMode.Min, factor: 0.5, patience: 2, cooldown: 1, minLr: 0.004),
            "PlateauMaxAbs" => new ReduceLROnPlateau(optimizer, PlateauMode.Max, factor: 0.7, patience: 1, threshold: 0.01, thresholdMode: ThresholdMode.Abs),
            _ => new ReduceLROnPlateau(optimizer, PlateauMode.Min, factor: 0.9, patience: 0, threshold: 0, thresholdMode: ThresholdMode.Abs, eps: 0.007),
        };
        for (int step = 0; step < Steps; step++)
        {
            double metric = ScheduleReference.Metrics[step];
            scheduler.Step(name == "PlateauMaxAbs" ? 1 - metric : metric);
            double[] actual = [.. scheduler.LastLr, scheduler.NumBadEpochs, scheduler.CooldownCounter];
            Assert.True(expected[step].SequenceEqual(actual),
                $"{name} after step {step + 1}: expected [{string.Join(", ", expected[step])}], got [{string.Join(", ", actual)}]");
        }
    }

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Schedule_loaded_from_a_state_dict_continues_the_same_rates(string name)
    {
        var (optimizerA, a) = Make(name);
        using var _ = optimizerA;
        for (int step = 0; step < 15; step++) a.Step();

        // A fresh optimizer and schedule, given both saved states, as a resumed run would be.
        var (optimizerB, b) = Make(name);
        using var __ = optimizerB;
        using (var saved = optimizerA.StateDict()) optimizerB.LoadStateDict(saved);
        b.LoadStateDict(a.StateDict());
        Assert.Equal(a.LastLr, b.LastLr);
        Assert.Equal(a.LastEpoch, b.LastEpoch);
        for (int step = 15; step < Steps; step++)
        {
            a.Step();
            b.Step();
            Assert.Equal(a.LastLr, b.LastLr);
            Assert.Equal(MomentumOf(optimizerA), MomentumOf(optimizerB));
        }
    }

    [Fact]
    public void Reduce_on_plateau_loaded_from_a_state_dict_continues_the_same_rates()
    {
        using var optimizerA = MakeOptimizer();
        var a = new ReduceLROnPlateau(optimizerA, patience: 2, factor: 0.5);
        for (int step = 0; step < 13; step++) a.Step(ScheduleReference.Metrics[step]);
        using var optimizerB = MakeOptimizer();
        var b = new ReduceLROnPlateau(optimizerB, patience: 2, factor: 0.5);
        using (var saved = optimizerA.StateDict()) optimizerB.LoadStateDict(saved);
        b.LoadStateDict(a.StateDict());
        for (int step = 13; step < Steps; step++)
        {
            a.Step(ScheduleReference.Metrics[step]);
            b.Step(ScheduleReference.Metrics[step]);
            Assert.Equal(a.LastLr, b.LastLr);
            Assert.Equal(a.Best, b.Best);
        }
    }

    [Fact]
    public void Scheduler_state_dict_has_pytorch_names()
    {
        using var optimizer = MakeOptimizer();
        var scheduler = new StepLR(optimizer, 3);
        scheduler.Step();
        var state = scheduler.StateDict();
        Assert.Equal(["_last_lr.0", "_last_lr.1", "_step_count", "base_lrs.0", "base_lrs.1", "last_epoch"], state.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(1, state["last_epoch"]);
        Assert.Equal(2, state["_step_count"]);
        Assert.Equal(0.05, state["base_lrs.1"]);
        Assert.Equal(0.1, optimizer.ParamGroups[0]["initial_lr"]);
    }

    [Fact]
    public void Second_schedule_on_one_optimizer_starts_from_initial_lr_as_in_pytorch()
    {
        // LinearWarmup scales the lr at once; a cosine schedule made next still takes "initial_lr" as its base.
        using var optimizer = MakeOptimizer();
        var warmup = new LinearWarmup(optimizer, startFactor: 0.5, warmupSteps: 4);
        var cosine = new CosineAnnealingLR(optimizer, tMax: 10);
        Assert.Equal([0.1, 0.05], cosine.BaseLrs);
        Assert.Equal([0.05, 0.025], cosine.LastLr);
        Assert.Equal(0, warmup.LastEpoch);
    }
}
