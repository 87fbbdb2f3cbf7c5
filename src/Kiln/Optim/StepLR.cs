namespace Kiln.Optim;

/// <summary>Multiplies each group's lr by <c>gamma</c> every <c>stepSize</c> steps (torch.optim.lr_scheduler.StepLR).</summary>
public sealed class StepLR : LRScheduler
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <summary>Decays the lr of <paramref name="optimizer"/> by <paramref name="gamma"/> every <paramref name="stepSize"/> steps.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, "StepLR: the step size must be at least 1");
        _stepSize = stepSize;
        _gamma = gamma;
        Start();
    }

    private protected override double[] NextLrs()
    {
        var lrs = CurrentLrs();
        if (LastEpoch == 0 || LastEpoch % _stepSize != 0) return lrs;
        for (int i = 0; i < lrs.Length; i++) lrs[i] *= _gamma;
        return lrs;
    }
}
