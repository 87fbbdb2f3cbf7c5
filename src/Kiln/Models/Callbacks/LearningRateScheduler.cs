using Kiln.Optim;

namespace Kiln.Models;

/// <summary>
/// Sets the learning rate for each epoch (Keras's LearningRateScheduler). With a function: at the start
/// of every epoch each parameter group of <see cref="Trainer.Optimizer"/> gets
/// <c>schedule(epoch, its current lr)</c>. With a <see cref="LRScheduler"/> of the same optimizer (StepLR,
/// CosineAnnealingLR, ...): the scheduler already set the first epoch's lr when it was made, and it
/// steps once at the end of every epoch, as a PyTorch loop steps it. Either way each epoch's logs get
/// "lr": the first group's learning rate during that epoch.
/// </summary>
public sealed class LearningRateScheduler : Callback
{
    private readonly Func<int, double, double>? _schedule;
    private readonly LRScheduler? _scheduler;

    /// <summary>Sets each group's lr to <paramref name="schedule"/>(epoch (0-based), current lr) at the start of every epoch.</summary>
    public LearningRateScheduler(Func<int, double, double> schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        _schedule = schedule;
    }

    /// <summary>Steps <paramref name="scheduler"/> once at the end of every epoch; it must schedule the optimizer the model is compiled with.</summary>
    public LearningRateScheduler(LRScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        _scheduler = scheduler;
    }

    /// <summary>Checks that a scheduler schedules the trainer's optimizer.</summary>
    public override void OnTrainBegin(IDictionary<string, double> logs)
    {
        if (_scheduler is not null && !ReferenceEquals(_scheduler.Optimizer, Trainer.Optimizer))
            throw new InvalidOperationException($"LearningRateScheduler: the {_scheduler.GetType().Name} schedules another optimizer than the {Trainer.Optimizer.GetType().Name} the model was compiled with");
    }

    /// <summary>Sets each group's lr from the schedule function.</summary>
    public override void OnEpochBegin(int epoch, IDictionary<string, double> logs)
    {
        if (_schedule is null) return;
        var groups = Trainer.Optimizer.ParamGroups;
        for (int g = 0; g < groups.Count; g++)
        {
            double lr = _schedule(epoch, groups[g].Lr);
            if (!(lr >= 0 && double.IsFinite(lr)))
                throw new InvalidOperationException($"LearningRateScheduler: the schedule gave lr = {lr} for epoch {epoch} (parameter group {g}); a learning rate must be finite and >= 0");
            groups[g].Lr = lr;
        }
    }

    /// <summary>Logs the epoch's "lr", then steps the scheduler.</summary>
    public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
    {
        var groups = Trainer.Optimizer.ParamGroups;
        if (groups.Count > 0) logs["lr"] = groups[0].Lr;
        _scheduler?.Step();
    }
}
