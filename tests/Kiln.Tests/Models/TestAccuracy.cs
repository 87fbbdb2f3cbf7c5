using Kiln.Models;

namespace Kiln.Tests.Models;

/// <summary>A test-only accuracy (arg max of [N, C] logits against int64 class indices), logged as "accuracy".</summary>
internal sealed class TestAccuracy : Metric
{
    private long _correct;
    private long _total;

    public TestAccuracy() : base("accuracy")
    {
    }

    public override void Update(Tensor prediction, Tensor target, Tensor? sampleWeight = null)
    {
        using var scope = Engine.Scope();
        _correct += (long)prediction.ArgMax(1).Eq(target).Sum().Item();
        _total += target.Size(0);
    }

    public override double Result() => _total == 0 ? 0 : (double)_correct / _total;

    public override void Reset() => (_correct, _total) = (0, 0);

    public override Metric Clone() => new TestAccuracy();
}
