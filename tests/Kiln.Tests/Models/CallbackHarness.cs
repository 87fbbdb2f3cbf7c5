using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

namespace Kiln.Tests.Models;

/// <summary>Drives a callback's hooks by hand on a trainer of a tiny Linear model, as Fit would.</summary>
internal static class CallbackHarness
{
    /// <summary>A trainer of a Linear(2, 1) model with SGD at <paramref name="lr"/> (or <paramref name="optimizer"/>).</summary>
    internal static Trainer MakeTrainer(double lr = 0.1, Func<Module, Optimizer>? optimizer = null)
    {
        var model = new Linear(2, 1);
        return Trainer.Compile(model, optimizer?.Invoke(model) ?? new Sgd(model.Parameters(), lr), (p, t) => F.MseLoss(p, t), null);
    }

    /// <summary>Attaches <paramref name="callback"/> to <paramref name="trainer"/> and runs its train-begin hook.</summary>
    internal static T Begin<T>(T callback, Trainer trainer) where T : Callback
    {
        callback.Trainer = trainer;
        trainer.StopTraining = false;
        callback.OnTrainBegin(new Dictionary<string, double>());
        return callback;
    }

    /// <summary>
    /// Ends epochs 0, 1, ... with <paramref name="monitor"/> logged as each of <paramref name="values"/> until the
    /// callback stops training; returns the epoch it stopped at, or -1.
    /// </summary>
    internal static int EndEpochs(Callback callback, string monitor, params double[] values)
    {
        for (int epoch = 0; epoch < values.Length; epoch++)
        {
            callback.OnEpochEnd(epoch, new Dictionary<string, double> { ["loss"] = 1, [monitor] = values[epoch] });
            if (callback.Trainer.StopTraining) return epoch;
        }
        return -1;
    }
}
