namespace Kiln.NN;

/// <summary>Batch normalization of [N, C] or [N, C, L] input over N (and L) per channel (PyTorch's <c>nn.BatchNorm1d</c>); see <see cref="BatchNormBase"/>.</summary>
public class BatchNorm1d : BatchNormBase
{
    /// <summary>Batch normalization of <paramref name="numFeatures"/> channels.</summary>
    public BatchNorm1d(int numFeatures, double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base(numFeatures, eps, momentum, affine, trackRunningStats)
    {
    }

    /// <summary>
    /// A lazy batch normalization (PyTorch's <c>LazyBatchNorm1d</c>, Keras's <c>BatchNormalization()</c>):
    /// the channel count is dimension 1 of its first input, and the weight, bias and running statistics
    /// are created then. Call the model once, or <see cref="Module.Build(int[])"/> it, before creating an optimizer.
    /// </summary>
    public BatchNorm1d(double eps = 1e-5, double? momentum = 0.1, bool affine = true, bool trackRunningStats = true)
        : base(null, eps, momentum, affine, trackRunningStats)
    {
    }

    private protected override void CheckRank(Tensor input)
    {
        if (input.Rank is not (2 or 3)) throw InputError($"expected 2-D [N, C] or 3-D [N, C, L] input, got {input.Rank}-D input {input.Shape}");
    }
}
