namespace Kiln.Optim;

/// <summary>Multiplies each group's lr by <c>gamma</c> every step (torch.optim.lr_scheduler.ExponentialLR).</summary>
public sealed class ExponentialLR : LRScheduler
{
    private readonly double _gamma;

    /// <summary>Decays the lr of <paramref name="optimizer"/> by <paramref name="gamma"/> every step.</summary>
    public ExponentialLR(Optimizer optimizer, double gamma) : base(optimizer)
    {
        _gamma = gamma;
        Start();
    }

    private protected override double[] NextLrs()
    {
        var lrs = CurrentLrs();
        if (LastEpoch == 0) return lrs;
        for (int i = 0; i < lrs.Length; i++) lrs[i] *= _gamma;
        return lrs;
    }
}
