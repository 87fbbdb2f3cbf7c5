namespace Kiln.Tests.Autograd;

/// <summary>Engine.DetectAnomaly: NaN and infinity are reported with the op (forward) or backward function that made them.</summary>
public sealed class AnomalyModeTests
{
    [Fact]
    public void Anomaly_mode_names_the_op_that_overflows_in_forward()
    {
        var x = Tensor.From<float>([1, 1000]);
        x.RequiresGrad = true;
        using (Engine.DetectAnomaly())
        {
            var ex = Assert.Throws<KilnAutogradException>(() => x.Exp());
            Assert.Contains("Exp", ex.Message);
            Assert.Contains("[2]", ex.Message);
        }
    }

    [Fact]
    public void Without_anomaly_mode_overflow_is_not_an_error()
    {
        var y = Tensor.From<float>([1000]).Exp();
        Assert.True(float.IsPositiveInfinity(y.Item<float>()));
    }

    [Fact]
    public void Anomaly_mode_names_the_op_that_makes_nan_in_forward()
    {
        // inf * 0 = NaN: the Exp is finite, the Mul is not.
        var big = Tensor.From<float>([float.PositiveInfinity]);
        var zero = Tensor.From<float>([0]);
        using (Engine.DetectAnomaly())
        {
            var ex = Assert.Throws<KilnAutogradException>(() => big * zero);
            Assert.Contains("Mul", ex.Message);
        }
    }

    [Fact]
    public void Anomaly_mode_names_the_backward_function_that_overflows()
    {
        // Forward exp(20) = 4.9e8 is finite; backward multiplies it by the seed 1e30 and overflows float32.
        var x = Tensor.From<float>([20, 1]);
        x.RequiresGrad = true;
        using (Engine.DetectAnomaly())
        {
            var y = x.Exp();
            var ex = Assert.Throws<KilnAutogradException>(() => y.Backward(Tensor.Full([2], 1e30)));
            Assert.Contains("ExpBackward", ex.Message);
            Assert.Contains("NaN or infinity", ex.Message);
        }
    }

    [Fact]
    public void Without_anomaly_mode_backward_overflow_is_not_an_error()
    {
        var x = Tensor.From<float>([20, 1]);
        x.RequiresGrad = true;
        x.Exp().Backward(Tensor.Full([2], 1e30));
        Assert.True(float.IsPositiveInfinity(x.Grad!.ToArray<float>()[0]));
    }

    [Fact]
    public void DetectAnomaly_is_scoped()
    {
        using (Engine.DetectAnomaly())
        {
            using (Engine.DetectAnomaly(false))
            {
                Tensor.From<float>([1000]).Exp();
            }
            Assert.Throws<KilnAutogradException>(() => Tensor.From<float>([1000]).Exp());
        }
        Tensor.From<float>([1000]).Exp();
    }
}
