namespace Kiln.Optim;

/// <summary>
/// Multiplies each group's lr by <c>gamma</c> when the step count reaches each milestone (once per time a
/// milestone is listed) (torch.optim.lr_scheduler.MultiStepLR).
/// </summary>
public sealed class MultiStepLR : LRScheduler
{
    private readonly Dictionary<int, int> _milestones = [];
    private readonly double _gamma;

    /// <summary>Decays the lr of <paramref name="optimizer"/> by <paramref name="gamma"/> at each of <paramref name="milestones"/>.</summary>
    public MultiStepLR(Optimizer optimizer, IEnumerable<int> milestones, double gamma = 0.1) : base(optimizer)
    {
        ArgumentNullException.ThrowIfNull(milestones);
        foreach (int m in milestones) _milestones[m] = _milestones.GetValueOrDefault(m) + 1;
        _gamma = gamma;
        Start();
    }

    private protected override double[] NextLrs()
    {
        var lrs = CurrentLrs();
        if (!_milestones.TryGetValue(LastEpoch, out int count)) return lrs;
        double factor = Math.Pow(_gamma, count);
        for (int i = 0; i < lrs.Length; i++) lrs[i] *= factor;
        return lrs;
    }
}
