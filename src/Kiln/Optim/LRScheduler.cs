using System.Globalization;

namespace Kiln.Optim;

/// <summary>
/// Base of the learning-rate schedules that advance once per <see cref="Step"/> (torch.optim.lr_scheduler's
/// _LRScheduler). Creating one takes its first step at once, as PyTorch does: each group's "initial_lr" is set
/// (if not set already) to its current lr and becomes its base lr, and the lr for epoch 0 is written. Call
/// <see cref="Step"/> after each optimizer step (or epoch). Schedules compute the next lr from the group's
/// current one (PyTorch's chainable form), so changes made to the lr from outside carry on.
/// </summary>
public abstract class LRScheduler
{
    private double[] _baseLrs = [];
    private double[] _lastLr = [];

    private protected LRScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (optimizer.ParamGroups.Count == 0)
            throw new ArgumentException($"{GetType().Name}: the {optimizer.Name} has no parameter groups yet; create the scheduler once it has its parameters", nameof(optimizer));
        Optimizer = optimizer;
    }

    /// <summary>The optimizer whose groups' lr this schedule sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Steps taken, counting the one the constructor takes from −1 to 0 (PyTorch's last_epoch).</summary>
    public int LastEpoch { get; private set; } = -1;

    /// <summary>Each group's "initial_lr" when the schedule was created.</summary>
    public IReadOnlyList<double> BaseLrs => _baseLrs;

    /// <summary>Each group's lr after the latest step (PyTorch's get_last_lr()).</summary>
    public IReadOnlyList<double> LastLr => _lastLr;

    /// <summary>Number of <see cref="Step"/> calls, the constructor's included (PyTorch's _step_count).</summary>
    private protected int StepCount { get; private set; }

    /// <summary>PyTorch's _initial_step: every derived constructor calls it last, once its own settings are in place.</summary>
    private protected void Start()
    {
        foreach (var group in Optimizer.ParamGroups)
            if (!group.Contains("initial_lr")) group["initial_lr"] = group.Lr;
        _baseLrs = Optimizer.ParamGroups.Select(g => g["initial_lr"]).ToArray();
        LastEpoch = -1;
        StepCount = 0;
        Step();
    }

    /// <summary>Advances the schedule one step and writes the new lr into each parameter group.</summary>
    public void Step()
    {
        var groups = Optimizer.ParamGroups;
        if (groups.Count != _baseLrs.Length)
            throw new KilnException($"{GetType().Name}.Step(): the optimizer has {groups.Count} parameter groups, but the schedule was made for {_baseLrs.Length}");
        StepCount++;
        LastEpoch++;
        var lrs = NextLrs();
        for (int i = 0; i < groups.Count; i++) groups[i].Lr = lrs[i];
        _lastLr = groups.Select(g => g.Lr).ToArray();
    }

    /// <summary>The lr of each group for epoch <see cref="LastEpoch"/>, from its current lr (PyTorch's get_lr).</summary>
    private protected abstract double[] NextLrs();

    /// <summary>
    /// The schedule's progress as scalars: "last_epoch", "_step_count", "base_lrs.{i}" and "_last_lr.{i}" per
    /// group (the schedule's settings come from its constructor and are not included).
    /// </summary>
    public IReadOnlyDictionary<string, double> StateDict()
    {
        var state = new Dictionary<string, double>
        {
            ["last_epoch"] = LastEpoch,
            ["_step_count"] = StepCount,
        };
        SchedulerState.PutList(state, "base_lrs", _baseLrs);
        SchedulerState.PutList(state, "_last_lr", _lastLr);
        return state;
    }

    /// <summary>Restores the progress saved by <see cref="StateDict"/>; every key is checked before anything changes.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var reader = new SchedulerState(GetType().Name, state);
        int groups = Optimizer.ParamGroups.Count;
        int lastEpoch = reader.Whole("last_epoch", -1);
        int stepCount = reader.Whole("_step_count", 0);
        var baseLrs = reader.List("base_lrs", groups);
        var lastLr = reader.List("_last_lr", groups);
        reader.EnsureAllRead();
        LastEpoch = lastEpoch;
        StepCount = stepCount;
        _baseLrs = baseLrs;
        _lastLr = lastLr;
    }

    /// <summary>The current lr of every group.</summary>
    private protected double[] CurrentLrs() => Optimizer.ParamGroups.Select(g => g.Lr).ToArray();
}
