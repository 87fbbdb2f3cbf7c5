using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>The text of Fit's and Evaluate's progress output, on a terminal and redirected, with a test clock.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class ProgressBarTests
{
    private const string Full = "[==============================]";

    /// <summary>
    /// A model whose loss is 1 on every batch (zero weights, targets 1, learning rate 0); the clock
    /// advances one second at each batch end, training or validation.
    /// </summary>
    private static (Linear Model, StringWriter Output, HookRecorder Clock) Setup(bool inPlace)
    {
        var model = new Linear(1, 1);
        using (Engine.NoGrad())
        {
            model.Weight.ZeroInPlace();
            model.Bias!.ZeroInPlace();
        }
        var trainer = model.Compile(new Sgd(lr: 0), Losses.MeanSquaredError);
        var output = new StringWriter { NewLine = "\n" };
        var now = TimeSpan.Zero;
        trainer.ProgressOutput = output;
        trainer.ProgressInPlace = inPlace;
        trainer.ProgressClock = () => now;
        var clock = new HookRecorder { OnCall = (hook, _, _) => { if (hook.EndsWith("BatchEnd", StringComparison.Ordinal)) now += TimeSpan.FromSeconds(1); } };
        return (model, output, clock);
    }

    [Fact]
    public void Redirected_output_gets_one_line_per_epoch_after_its_header()
    {
        var (model, output, clock) = Setup(inPlace: false);
        var x = Tensor.Zeros([8, 1]);
        var y = Tensor.Ones([8, 1]);

        model.Fit(x, y, batchSize: 4, epochs: 2, callbacks: [clock], verbose: 1);

        // Two batches of 4 samples per epoch, a second each: 2 s, 1 s a step, 8 samples in 2 s.
        Assert.Equal(
            "Epoch 1/2\n" +
            $"2/2 {Full} - 2s 1s/step - loss: 1.0000 - 4 samples/s\n" +
            "Epoch 2/2\n" +
            $"2/2 {Full} - 2s 1s/step - loss: 1.0000 - 4 samples/s\n",
            output.ToString());
    }

    [Fact]
    public void A_terminal_gets_the_bar_redrawn_in_place_with_an_ETA_then_the_final_line()
    {
        var (model, output, clock) = Setup(inPlace: true);
        var x = Tensor.Zeros([8, 1]);
        var y = Tensor.Ones([8, 1]);

        model.Fit(x, y, batchSize: 4, epochs: 1, callbacks: [clock], validationData: (x, y), verbose: 1);

        Assert.Equal(
            "Epoch 1/1\n" +
            "\r1/2 [==============>...............] - ETA: 1s - loss: 1.0000" +
            $"\r2/2 {Full} - ETA: 0s - loss: 1.0000" +
            $"\r2/2 {Full} - 4s 2s/step - loss: 1.0000 - val_loss: 1.0000 - 2 samples/s\n",
            output.ToString());
    }

    [Fact]
    public void Verbose_2_writes_the_final_line_without_the_bar()
    {
        var (model, output, clock) = Setup(inPlace: true);
        var x = Tensor.Zeros([12, 1]);
        var y = Tensor.Ones([12, 1]);

        model.Fit(x, y, batchSize: 4, epochs: 1, callbacks: [clock], verbose: 2);

        Assert.Equal("Epoch 1/1\n3/3 - 3s 1s/step - loss: 1.0000 - 4 samples/s\n", output.ToString());
    }

    [Fact]
    public void Evaluate_writes_one_final_line_with_its_values()
    {
        var (model, output, clock) = Setup(inPlace: false);

        model.Evaluate(Tensor.Zeros([10, 1]), Tensor.Ones([10, 1]), batchSize: 4, callbacks: [clock], verbose: 1);

        Assert.Equal($"3/3 {Full} - 3s 1s/step - loss: 1.0000 - 3 samples/s\n", output.ToString());
    }

    [Fact]
    public void Redraws_are_throttled_and_a_shorter_line_blanks_the_rest_of_the_longer_one()
    {
        var output = new StringWriter { NewLine = "\n" };
        var now = TimeSpan.Zero;
        var bar = new ProgressBar(output, verbose: 1, inPlace: true, () => now);
        bar.Start(10);

        now = TimeSpan.FromSeconds(1);
        bar.Update(1, new() { ["loss"] = 12345.5 });
        now += TimeSpan.FromSeconds(0.01);
        bar.Update(2, new() { ["loss"] = 1 });
        now = TimeSpan.FromSeconds(2);
        bar.Update(3, new() { ["loss"] = 1 });

        Assert.Equal(
            "\r 1/10 [==>...........................] - ETA: 9s - loss: 12345.5000" +
            "\r 3/10 [========>.....................] - ETA: 4s - loss: 1.0000    ",
            output.ToString());
    }

    [Theory]
    [InlineData(0.0005, "5.0000e-04")]
    [InlineData(0.4123, "0.4123")]
    [InlineData(-2.5, "-2.5000")]
    [InlineData(0, "0.0000e+00")]
    public void Values_have_four_decimals_and_small_ones_are_scientific(double value, string text)
        => Assert.Equal(text, ProgressBar.FormatValue(value));

    [Theory]
    [InlineData(12.7, "12s")]
    [InlineData(75, "1:15")]
    [InlineData(3725, "1:02:05")]
    public void ETA_is_seconds_minutes_or_hours(double seconds, string text) => Assert.Equal(text, ProgressBar.FormatEta(seconds));

    [Theory]
    [InlineData(2.4, "2s/step")]
    [InlineData(0.026, "26ms/step")]
    [InlineData(0.00002, "20us/step")]
    public void Time_per_step_takes_the_fitting_unit(double seconds, string text) => Assert.Equal(text, ProgressBar.FormatPerStep(seconds));
}
