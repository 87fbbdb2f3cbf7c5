namespace Kiln.Optim;

/// <summary>
/// Scales each group's lr by a factor that moves linearly from <c>startFactor</c> to <c>endFactor</c> over
/// <c>warmupSteps</c> steps, then leaves it (torch.optim.lr_scheduler.LinearLR, in PyTorch's recursive form).
/// </summary>
public sealed class LinearWarmup : LRScheduler
{
    private readonly double _startFactor;
    private readonly double _endFactor;
    private readonly int _warmupSteps;

    /// <summary>Warms the lr of <paramref name="optimizer"/> up from <paramref name="startFactor"/>·lr to <paramref name="endFactor"/>·lr over <paramref name="warmupSteps"/> steps.</summary>
    public LinearWarmup(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int warmupSteps = 5) : base(optimizer)
    {
        if (!(startFactor > 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, "LinearWarmup: the start factor must be in (0, 1]");
        if (!(endFactor >= 0 && endFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(endFactor), endFactor, "LinearWarmup: the end factor must be in [0, 1]");
        if (warmupSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, "LinearWarmup: warmupSteps must be at least 1");
        _startFactor = startFactor;
        _endFactor = endFactor;
        _warmupSteps = warmupSteps;
        Start();
    }

    private protected override double[] NextLrs()
    {
        var lrs = CurrentLrs();
        int epoch = LastEpoch;
        if (epoch > _warmupSteps) return lrs;
        for (int i = 0; i < lrs.Length; i++)
        {
            lrs[i] = epoch == 0
                ? lrs[i] * _startFactor
                : lrs[i] * (1.0 + (_endFactor - _startFactor) / (_warmupSteps * _startFactor + (epoch - 1) * (_endFactor - _startFactor)));
        }
        return lrs;
    }
}
