using Kiln.Ops;

namespace Kiln.NN;

public static partial class F
{
    /// <summary>
    /// Batch normalization over the channel axis (dim 1) of [N, C] or [N, C, ...]. In training the batch
    /// statistics normalize and, when running buffers are given, update them in place
    /// (running = (1 - momentum)·running + momentum·batch, with the unbiased variance, as PyTorch does);
    /// in evaluation the running statistics normalize.
    /// </summary>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        if (input.Rank < 2) throw new KilnShapeException($"BatchNorm: input must be [N, C] or [N, C, ...], got {input.Shape}");
        int channels = input.ShapeArray[1];
        CheckChannelVector("BatchNorm", "runningMean", runningMean, channels);
        CheckChannelVector("BatchNorm", "runningVar", runningVar, channels);
        CheckChannelVector("BatchNorm", "weight", weight, channels);
        CheckChannelVector("BatchNorm", "bias", bias, channels);
        var shape = ChannelShape(input.Rank, channels);

        if (training)
        {
            long count = input.NumElements / Math.Max(channels, 1);
            if (count <= 1) throw new KilnShapeException($"BatchNorm: expected more than 1 value per channel when training, got input {input.Shape}");
            if (runningMean is not null && runningVar is not null)
            {
                using (Engine.NoGrad())
                {
                    var stats = BatchNormStatsOp.Apply(input);
                    var unbiased = stats.Select(0, 1) * ((double)count / (count - 1));
                    runningMean.MulInPlace(Tensor.Scalar(1 - momentum, runningMean.DType)).AddInPlace(stats.Select(0, 0) * momentum);
                    runningVar.MulInPlace(Tensor.Scalar(1 - momentum, runningVar.DType)).AddInPlace(unbiased * momentum);
                }
            }
            // One fused primitive (statistics and normalization; its backward in three passes).
            return BatchNormOp.Apply(input, weight ?? Tensor.Ones([channels], input.DType), bias ?? Tensor.Zeros([channels], input.DType), eps);
        }
        if (runningMean is null || runningVar is null)
            throw new KilnShapeException("BatchNorm: evaluation needs runningMean and runningVar (or pass training: true)");
        var mean = runningMean.Reshape(shape);
        var variance = runningVar.Reshape(shape);
        return Affine((input - mean) * (variance + eps).Rsqrt(), weight, bias, shape);
    }

    /// <summary>Layer normalization over the last dimensions given by <paramref name="normalizedShape"/>, with optional elementwise affine.</summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        int k = normalizedShape.Length;
        if (k == 0 || k > input.Rank)
            throw new KilnShapeException($"LayerNorm: normalizedShape {Shape.Format(normalizedShape)} does not fit input {input.Shape}");
        for (int i = 0; i < k; i++)
            if (input.ShapeArray[input.Rank - k + i] != normalizedShape[i])
                throw new KilnShapeException($"LayerNorm: input {input.Shape} does not end with normalizedShape {Shape.Format(normalizedShape)}");
        if (weight is not null && weight.Shape != Shape.Wrap(normalizedShape))
            throw new KilnShapeException($"LayerNorm: weight must be {Shape.Format(normalizedShape)}, got {weight.Shape}");
        if (bias is not null && bias.Shape != Shape.Wrap(normalizedShape))
            throw new KilnShapeException($"LayerNorm: bias must be {Shape.Format(normalizedShape)}, got {bias.Shape}");
        var dims = new int[k];
        for (int i = 0; i < k; i++) dims[i] = input.Rank - k + i;
        var mean = input.Mean(dims, keepDim: true);
        var centered = input - mean;
        var variance = (centered * centered).Mean(dims, keepDim: true);
        var y = centered * (variance + eps).Rsqrt();
        if (weight is not null) y = y * weight;
        if (bias is not null) y = y + bias;
        return y;
    }

    /// <summary>Group normalization: channels split into <paramref name="groups"/>, each normalized over its channels and spatial positions; per-channel affine.</summary>
    public static Tensor GroupNorm(Tensor input, int groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        if (input.Rank < 2) throw new KilnShapeException($"GroupNorm: input must be [N, C, ...], got {input.Shape}");
        int n = input.ShapeArray[0], channels = input.ShapeArray[1];
        if (groups <= 0 || channels % groups != 0)
            throw new KilnShapeException($"GroupNorm: {channels} channels cannot be split into {groups} groups");
        CheckChannelVector("GroupNorm", "weight", weight, channels);
        CheckChannelVector("GroupNorm", "bias", bias, channels);
        var grouped = input.Reshape(n, groups, -1);
        var mean = grouped.Mean(2, keepDim: true);
        var centered = grouped - mean;
        var variance = (centered * centered).Mean(2, keepDim: true);
        var y = (centered * (variance + eps).Rsqrt()).Reshape(input.ShapeArray);
        return Affine(y, weight, bias, ChannelShape(input.Rank, channels));
    }

    private static Tensor Affine(Tensor x, Tensor? weight, Tensor? bias, int[] channelShape)
    {
        if (weight is not null) x = x * weight.Reshape(channelShape);
        if (bias is not null) x = x + bias.Reshape(channelShape);
        return x;
    }

    private static int[] ChannelShape(int rank, int channels)
    {
        var shape = new int[rank];
        Array.Fill(shape, 1);
        shape[1] = channels;
        return shape;
    }

    private static void CheckChannelVector(string op, string name, Tensor? t, int channels)
    {
        if (t is not null && (t.Rank != 1 || t.ShapeArray[0] != channels))
            throw new KilnShapeException($"{op}: {name} must be [{channels}] (one per channel), got {t.Shape}");
    }
}
