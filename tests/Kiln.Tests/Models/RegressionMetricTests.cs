using Kiln.Models;

namespace Kiln.Tests.Models;

/// <summary>MeanSquaredError, MeanAbsoluteError and Mean against hand computations.</summary>
public sealed class RegressionMetricTests
{
    private static readonly float[,] Prediction = { { 1, 2 }, { 3, 4 }, { 5, 6 } };
    private static readonly float[,] Target = { { 1, 1 }, { 1, 1 }, { 1, 1 } };

    [Fact]
    public void MeanSquaredError_averages_each_sample_then_the_samples()
    {
        // Squared errors [0, 1], [4, 9], [16, 25]: sample means 0.5, 6.5, 20.5.
        var mse = new MeanSquaredError();
        mse.Update(Tensor.From(Prediction), Tensor.From(Target));
        Assert.Equal(27.5 / 3, mse.Result(), 12);
        var weighted = new MeanSquaredError();
        weighted.Update(Tensor.From(Prediction), Tensor.From(Target), Tensor.From([1.0, 2.0, 0.5]));
        Assert.Equal((0.5 + 13 + 10.25) / 3.5, weighted.Result(), 12);
        Assert.Equal("mean_squared_error", mse.Name);
    }

    [Fact]
    public void MeanAbsoluteError_averages_each_sample_then_the_samples()
    {
        // Absolute errors [0, 1], [2, 3], [4, 5]: sample means 0.5, 2.5, 4.5.
        var mae = new MeanAbsoluteError();
        mae.Update(Tensor.From(Prediction), Tensor.From(Target));
        Assert.Equal(2.5, mae.Result(), 12);
        var weighted = new MeanAbsoluteError();
        weighted.Update(Tensor.From(Prediction), Tensor.From(Target), Tensor.From([1.0, 2.0, 0.5]));
        Assert.Equal((0.5 + 5 + 2.25) / 3.5, weighted.Result(), 12);
        Assert.Equal("mean_absolute_error", mae.Name);
    }

    [Fact]
    public void Regression_metrics_read_an_n_by_1_prediction_against_an_n_target_of_another_dtype()
    {
        var mse = new MeanSquaredError();
        mse.Update(Tensor.From<double>([1.5, -2, 3], 3, 1), Tensor.From<long>([1, 0, 3]));
        Assert.Equal((0.25 + 4 + 0) / 3, mse.Result(), 12);
    }

    [Fact]
    public void Regression_metrics_sum_long_rows_block_by_block_to_the_naive_sum()
    {
        var random = new Random(3);
        int samples = 5, width = 501;
        var p = new float[samples * width];
        var t = new float[samples * width];
        for (int i = 0; i < p.Length; i++)
        {
            p[i] = (float)random.NextDouble();
            t[i] = (float)random.NextDouble();
        }
        double squared = 0, absolute = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double d = (double)p[i] - t[i];
            squared += d * d;
            absolute += Math.Abs(d);
        }
        var (mse, mae) = (new MeanSquaredError(), new MeanAbsoluteError());
        mse.Update(Tensor.From<float>(p, samples, width), Tensor.From<float>(t, samples, width));
        mae.Update(Tensor.From<float>(p, samples, width), Tensor.From<float>(t, samples, width));
        Assert.Equal(squared / p.Length, mse.Result(), 5);
        Assert.Equal(absolute / p.Length, mae.Result(), 5);
    }

    [Fact]
    public void Mean_is_the_weighted_mean_of_scalars_and_tensor_elements()
    {
        var mean = new Mean("grad_norm");
        mean.Update(2);
        mean.Update(4, weight: 3);
        Assert.Equal((2 + 12) / 4.0, mean.Result(), 12);
        // Each element counts with its sample's weight: 1·(1 + 2) + 3·(3 + 4) over 1·2 + 3·2.
        var values = new Mean();
        values.UpdateValues(Tensor.From(new float[,] { { 1, 2 }, { 3, 4 } }), Tensor.From([1.0, 3.0]));
        Assert.Equal(24.0 / 8, values.Result(), 12);
        values.UpdateValues(Tensor.Scalar(11, DType.Int64));
        Assert.Equal(35.0 / 9, values.Result(), 12);
        Assert.Equal("grad_norm", mean.Name);
        Assert.Equal("mean", values.Name);
    }

    [Fact]
    public void Mean_given_to_compile_averages_the_predictions()
    {
        var mean = new Mean();
        mean.Update(Tensor.From([1f, 2f, 6f]), Tensor.From([100f, 100f, 100f]));
        Assert.Equal(3.0, mean.Result(), 12);
    }
}
