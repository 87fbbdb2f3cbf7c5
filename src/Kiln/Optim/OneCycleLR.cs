namespace Kiln.Optim;

/// <summary>
/// The 1cycle policy (Smith and Topin; torch.optim.lr_scheduler.OneCycleLR): the lr rises from
/// maxLr/divFactor to maxLr over the first pctStart of <c>totalSteps</c>, then falls to
/// maxLr/(divFactor·finalDivFactor); with <c>threePhase</c> it first falls back to the start before the final
/// decay. With <c>cycleMomentum</c> the momentum (SGD and RMSprop's momentum, Adam's beta1) moves inversely
/// between maxMomentum and baseMomentum. Step once per batch; stepping past totalSteps throws. Like PyTorch,
/// it keeps "initial_lr", "max_lr", "min_lr" (and "max_momentum", "base_momentum") in each group.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    private readonly int _totalSteps;
    private readonly AnnealStrategy _anneal;
    private readonly string? _momentumKey;
    private readonly (double EndStep, string StartLr, string EndLr, string StartMomentum, string EndMomentum)[] _phases;

    /// <summary>A one-cycle schedule of <paramref name="totalSteps"/> steps (epochs × steps per epoch) peaking at <paramref name="maxLr"/>.</summary>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4,
        bool threePhase = false)
        : base(optimizer)
    {
        if (totalSteps < 1) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "OneCycleLR: totalSteps must be a positive number of steps");
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "OneCycleLR: pctStart must be between 0 and 1");
        if (annealStrategy is not (AnnealStrategy.Cos or AnnealStrategy.Linear))
            throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, "OneCycleLR: the anneal strategy must be Cos or Linear");
        if (!(maxLr >= 0 && double.IsFinite(maxLr))) throw new ArgumentOutOfRangeException(nameof(maxLr), maxLr, "OneCycleLR: maxLr must be a finite value >= 0");
        if (!(divFactor > 0) || !(finalDivFactor > 0))
            throw new ArgumentOutOfRangeException(nameof(divFactor), "OneCycleLR: divFactor and finalDivFactor must be > 0");
        _totalSteps = totalSteps;
        _anneal = annealStrategy;
        _phases = threePhase
            ?
            [
                (pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * pctStart * totalSteps - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (totalSteps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
            :
            [
                (pctStart * totalSteps - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (totalSteps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ];

        if (cycleMomentum)
        {
            _momentumKey = optimizer.Defaults.ContainsKey("beta1") ? "beta1"
                : optimizer.Defaults.ContainsKey("momentum") ? "momentum"
                : throw new ArgumentException($"OneCycleLR: {optimizer.Name} has no momentum or beta1 to cycle; pass cycleMomentum: false", nameof(cycleMomentum));
        }
        foreach (var group in optimizer.ParamGroups)
        {
            group["initial_lr"] = maxLr / divFactor;
            group["max_lr"] = maxLr;
            group["min_lr"] = group["initial_lr"] / finalDivFactor;
            if (_momentumKey is null) continue;
            group[_momentumKey] = maxMomentum;
            group["max_momentum"] = maxMomentum;
            group["base_momentum"] = baseMomentum;
        }
        Start();
    }

    private protected override double[] NextLrs()
    {
        int stepNumber = LastEpoch;
        if (stepNumber > _totalSteps)
            throw new KilnException($"OneCycleLR: tried to step {stepNumber + 1} times; the specified number of total steps is {_totalSteps}");
        var groups = Optimizer.ParamGroups;
        var lrs = new double[groups.Count];
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            double startStep = 0;
            for (int i = 0; i < _phases.Length; i++)
            {
                var phase = _phases[i];
                if (stepNumber <= phase.EndStep || i == _phases.Length - 1)
                {
                    double pct = (stepNumber - startStep) / (phase.EndStep - startStep);
                    lrs[g] = Anneal(group[phase.StartLr], group[phase.EndLr], pct);
                    if (_momentumKey is not null)
                        group[_momentumKey] = Anneal(group[phase.StartMomentum], group[phase.EndMomentum], pct);
                    break;
                }
                startStep = phase.EndStep;
            }
        }
        return lrs;
    }

    private double Anneal(double start, double end, double pct)
    {
        if (_anneal == AnnealStrategy.Linear) return (end - start) * pct + start;
        double cosOut = Math.Cos(Math.PI * pct) + 1;
        return end + (start - end) / 2.0 * cosOut;
    }
}
