namespace Kiln.NN;

/// <summary>
/// What <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share (PyTorch's <c>_BatchNorm</c>):
/// per-channel weight (ones) and bias (zeros) when affine, and the buffers running_mean (zeros),
/// running_var (ones) and num_batches_tracked (int64) when tracking running statistics. Training
/// normalizes with the batch statistics and updates the running ones
/// (running = (1 - momentum)·running + momentum·batch, unbiased variance; with a null momentum a
/// cumulative average); evaluation normalizes with the running statistics. Made without a channel
/// count, the layer is lazy (PyTorch's <c>LazyBatchNorm2d</c>): it takes the channel count from its
/// first input and creates its weight, bias and buffers then.
/// </summary>
public abstract class BatchNormBase : Module
{
    private Tensor? _weight;
    private Tensor? _bias;
    private Tensor? _runningMean;
    private Tensor? _runningVar;
    private Tensor? _numBatchesTracked;

    /// <summary>
    /// Batch normalization of <paramref name="numFeatures"/> channels, or a lazy one that learns them
    /// from its first input when <paramref name="numFeatures"/> is null.
    /// </summary>
    private protected BatchNormBase(int? numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats)
    {
        if (numFeatures is { } n) RequirePositive(n, nameof(numFeatures));
        if (!(eps >= 0) || !double.IsFinite(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{TypeName}: eps must be a finite number >= 0");
        if (momentum is { } m && !(m >= 0 && m <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), m, $"{TypeName}: momentum must be in [0, 1] (or null for a cumulative average)");
        Eps = eps;
        Momentum = momentum;
        Affine = affine;
        TrackRunningStats = trackRunningStats;
        if (numFeatures is { } size) Materialize(size, initialize: true);
        else DeferBuild();
    }

    /// <summary>Number of channels (dimension 1 of the input); 0 while a lazy layer has not seen an input (as PyTorch's LazyBatchNorm reports).</summary>
    public int NumFeatures { get; private set; }

    /// <summary>Added to the variance before its square root.</summary>
    public double Eps { get; }

    /// <summary>Weight of the newest batch in the running statistics; null for a cumulative average.</summary>
    public double? Momentum { get; }

    /// <summary>Whether the layer has a learned per-channel weight and bias.</summary>
    public bool Affine { get; }

    /// <summary>Whether the layer keeps running statistics (for evaluation).</summary>
    public bool TrackRunningStats { get; }

    /// <summary>Per-channel scale [NumFeatures] (null unless <see cref="Affine"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? Weight => Built(_weight, nameof(Weight));

    /// <summary>Per-channel shift [NumFeatures] (null unless <see cref="Affine"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? Bias => Built(_bias, nameof(Bias));

    /// <summary>Running mean [NumFeatures] (null unless <see cref="TrackRunningStats"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? RunningMean => Built(_runningMean, nameof(RunningMean));

    /// <summary>Running variance [NumFeatures] (null unless <see cref="TrackRunningStats"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? RunningVar => Built(_runningVar, nameof(RunningVar));

    /// <summary>Number of training batches seen, an int64 scalar (null unless <see cref="TrackRunningStats"/>); reading it before a lazy layer is built throws.</summary>
    public Tensor? NumBatchesTracked => Built(_numBatchesTracked, nameof(NumBatchesTracked));

    private Tensor? Built(Tensor? member, string name) => AwaitsInput ? throw NotBuiltError(name) : member;

    /// <summary>Resets the running statistics to mean 0, variance 1 and no batches (nothing before a lazy layer is built).</summary>
    public void ResetRunningStats()
    {
        if (_runningMean is null) return;
        Init.Zeros(_runningMean);
        Init.Ones(_runningVar!);
        Init.Zeros(_numBatchesTracked!);
    }

    /// <summary>Resets the running statistics and sets the weight to ones and the bias to zeros (nothing before a lazy layer is built).</summary>
    public void ResetParameters()
    {
        ResetRunningStats();
        if (_weight is null) return;
        Init.Ones(_weight);
        Init.Zeros(_bias!);
    }

    /// <summary>Throws unless <paramref name="input"/> has the rank this layer takes.</summary>
    private protected abstract void CheckRank(Tensor input);

    /// <summary>Normalizes each channel of the input.</summary>
    public override Tensor Forward(Tensor input)
    {
        CheckRank(input);
        int channels = input.ShapeArray[1];
        if (AwaitsInput) BuildOnce(channels);
        if (channels != NumFeatures) throw InputError($"input has {channels} channels, expected {NumFeatures} (input {input.Shape})");
        double factor = Momentum ?? 0;
        var batches = _numBatchesTracked;
        if (IsTraining && batches is not null)
        {
            using (Engine.NoGrad()) batches.AddInPlace(1);
            if (Momentum is null) factor = 1.0 / batches.Item<long>();
        }
        bool useBatchStats = IsTraining || _runningMean is null;
        // In training without tracking there are no buffers to update; in evaluation the running
        // statistics normalize.
        var mean = !IsTraining || TrackRunningStats ? _runningMean : null;
        var variance = !IsTraining || TrackRunningStats ? _runningVar : null;
        return F.BatchNorm(input, mean, variance, _weight, _bias, useBatchStats, factor, Eps);
    }

    private protected override void Materialize(int inputSize, bool initialize)
    {
        if (Affine)
        {
            _weight = NewParameter(inputSize);
            _bias = NewParameter(inputSize);
        }
        if (TrackRunningStats)
        {
            _runningMean = Tensor.Zeros([inputSize]).DetachFromScope();
            _runningVar = Tensor.Ones([inputSize]).DetachFromScope();
            _numBatchesTracked = Tensor.Zeros([], DType.Int64).DetachFromScope();
        }
        ResetParameters();
        NumFeatures = inputSize;
    }

    private protected override void Unmaterialize()
    {
        _weight = _bias = _runningMean = _runningVar = _numBatchesTracked = null;
        NumFeatures = 0;
    }

    private protected override string? SizeMember => TrackRunningStats ? "running_mean" : Affine ? "weight" : null;

    private protected override int InputSizeFromSaved(int[] shape) => shape.Length == 1 ? shape[0] : 0;

    private protected override string SizeMemberShape => "[num_features]";

    protected override string? Signature => NumFeatures > 0 ? $"{NumFeatures}" : "?";

    protected override string ExtraRepr()
        => $"{NumFeatures}, eps={PyRepr.Float(Eps)}, momentum={(Momentum is { } m ? PyRepr.Float(m) : "None")}, affine={PyRepr.Bool(Affine)}, track_running_stats={PyRepr.Bool(TrackRunningStats)}";
}
