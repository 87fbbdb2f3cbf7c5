namespace Kiln.NN;

/// <summary>
/// What <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share (PyTorch's <c>_BatchNorm</c>):
/// per-channel weight (ones) and bias (zeros) when affine, and the buffers running_mean (zeros),
/// running_var (ones) and num_batches_tracked (int64) when tracking running statistics. Training
/// normalizes with the batch statistics and updates the running ones
/// (running = (1 - momentum)·running + momentum·batch, unbiased variance; with a null momentum a
/// cumulative average); evaluation normalizes with the running statistics.
/// </summary>
public abstract class BatchNormBase : Module
{
    private protected BatchNormBase(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
    {
        RequirePositive(numFeatures, nameof(numFeatures));
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{TypeName}: eps must be a finite number >= 0");
        if (momentum is { } m && !(m >= 0 && m <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), m, $"{TypeName}: momentum must be in [0, 1] (or null for a cumulative average)");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        if (affine)
        {
            Weight = NewParameter(numFeatures);
            Bias = NewParameter(numFeatures);
        }
        if (trackRunningStats)
        {
            RunningMean = Tensor.Zeros([numFeatures]).DetachFromScope();
            RunningVar = Tensor.Ones([numFeatures]).DetachFromScope();
            NumBatchesTracked = Tensor.Zeros([], DType.Int64).DetachFromScope();
        }
        ResetParameters();
    }

    /// <summary>Number of channels (dimension 1 of the input).</summary>
    public int NumFeatures { get; }

    /// <summary>Added to the variance before its square root.</summary>
    public double Eps { get; }

    /// <summary>Weight of the newest batch in the running statistics; null for a cumulative average.</summary>
    public double? Momentum { get; }

    /// <summary>Whether the layer has a learned per-channel weight and bias.</summary>
    public bool Affine { get; }

    /// <summary>Whether the layer keeps running statistics (for evaluation).</summary>
    public bool TrackRunningStats { get; }

    /// <summary>Per-channel scale [NumFeatures] (null unless <see cref="Affine"/>).</summary>
    public Tensor? Weight { get; }

    /// <summary>Per-channel shift [NumFeatures] (null unless <see cref="Affine"/>).</summary>
    public Tensor? Bias { get; }

    /// <summary>Running mean [NumFeatures] (null unless <see cref="TrackRunningStats"/>).</summary>
    public Tensor? RunningMean { get; }

    /// <summary>Running variance [NumFeatures] (null unless <see cref="TrackRunningStats"/>).</summary>
    public Tensor? RunningVar { get; }

    /// <summary>Number of training batches seen, an int64 scalar (null unless <see cref="TrackRunningStats"/>).</summary>
    public Tensor? NumBatchesTracked { get; }

    /// <summary>Resets the running statistics to mean 0, variance 1 and no batches.</summary>
    public void ResetRunningStats()
    {
        if (RunningMean is null) return;
        Init.Zeros(RunningMean);
        Init.Ones(RunningVar!);
        Init.Zeros(NumBatchesTracked!);
    }

    /// <summary>Resets the running statistics and sets the weight to ones and the bias to zeros.</summary>
    public void ResetParameters()
    {
        ResetRunningStats();
        if (Weight is null) return;
        Init.Ones(Weight);
        Init.Zeros(Bias!);
    }

    /// <summary>Throws unless <paramref name="input"/> has the rank this layer takes.</summary>
    private protected abstract void CheckRank(Tensor input);

    /// <summary>Normalizes each channel of the input.</summary>
    public override Tensor Forward(Tensor input)
    {
        CheckRank(input);
        int channels = input.ShapeArray[1];
        if (channels != NumFeatures) throw InputError($"input has {channels} channels, expected {NumFeatures} (input {input.Shape})");
        double factor = Momentum ?? 0;
        if (IsTraining && NumBatchesTracked is not null)
        {
            using (Engine.NoGrad()) NumBatchesTracked.AddInPlace(1);
            if (Momentum is null) factor = 1.0 / NumBatchesTracked.Item<long>();
        }
        bool useBatchStats = IsTraining || RunningMean is null;
        // In training without tracking there are no buffers to update; in evaluation the running
        // statistics normalize.
        var mean = !IsTraining || TrackRunningStats ? RunningMean : null;
        var variance = !IsTraining || TrackRunningStats ? RunningVar : null;
        return F.BatchNorm(input, mean, variance, Weight, Bias, useBatchStats, factor, Eps);
    }

    protected override string? Signature => $"{NumFeatures}";

    protected override string ExtraRepr()
        => $"{NumFeatures}, eps={PyRepr.Float(Eps)}, momentum={(Momentum is { } m ? PyRepr.Float(m) : "None")}, affine={PyRepr.Bool(Affine)}, track_running_stats={PyRepr.Bool(TrackRunningStats)}";
}
