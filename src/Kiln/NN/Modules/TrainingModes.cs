namespace Kiln.NN;

/// <summary>
/// The training flag of every module of a model, taken before a dry run, Fit, Evaluate or Predict switch the model
/// to one mode, and put back after them, so a model leaves as it came (a batch-norm layer a user froze
/// with Eval() stays frozen after an Evaluate).
/// </summary>
internal readonly struct TrainingModes
{
    private readonly Module[] _modules;
    private readonly bool[] _training;

    private TrainingModes(Module[] modules, bool[] training)
    {
        _modules = modules;
        _training = training;
    }

    internal static TrainingModes Capture(Module model)
    {
        var modules = model.Modules().ToArray();
        var training = new bool[modules.Length];
        for (int i = 0; i < modules.Length; i++) training[i] = modules[i].IsTraining;
        return new TrainingModes(modules, training);
    }

    /// <summary>Puts every flag back (modules are in pre-order, so setting each after its parent restores mixed modes).</summary>
    internal void Restore()
    {
        if (_modules.Length == 0) return;
        bool uniform = true;
        foreach (var training in _training) uniform &= training == _training[0];
        if (uniform)
        {
            _modules[0].Train(_training[0]);
            return;
        }
        for (int i = 0; i < _modules.Length; i++) _modules[i].Train(_training[i]);
    }
}
