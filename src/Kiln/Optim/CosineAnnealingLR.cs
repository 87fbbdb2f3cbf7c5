namespace Kiln.Optim;

/// <summary>
/// Cosine annealing from each group's base lr down to <c>etaMin</c> over <c>tMax</c> steps, then back up
/// (torch.optim.lr_scheduler.CosineAnnealingLR, in PyTorch's recursive form):
/// lr_t = etaMin + (base − etaMin)·(1 + cos(π·t/tMax))/2 when nothing else changes the lr.
/// </summary>
public sealed class CosineAnnealingLR : LRScheduler
{
    private readonly int _tMax;
    private readonly double _etaMin;

    /// <summary>Anneals the lr of <paramref name="optimizer"/> to <paramref name="etaMin"/> over <paramref name="tMax"/> steps.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax < 1) throw new ArgumentOutOfRangeException(nameof(tMax), tMax, "CosineAnnealingLR: tMax must be at least 1");
        _tMax = tMax;
        _etaMin = etaMin;
        Start();
    }

    private protected override double[] NextLrs()
    {
        var lrs = CurrentLrs();
        int epoch = LastEpoch;
        if (epoch == 0) return lrs;
        for (int i = 0; i < lrs.Length; i++)
        {
            if ((epoch - 1 - _tMax) % (2 * _tMax) == 0)
                lrs[i] = lrs[i] + (BaseLrs[i] - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2;
            else
                lrs[i] = (1 + Math.Cos(Math.PI * epoch / _tMax)) / (1 + Math.Cos(Math.PI * (epoch - 1) / _tMax)) * (lrs[i] - _etaMin) + _etaMin;
        }
        return lrs;
    }
}
