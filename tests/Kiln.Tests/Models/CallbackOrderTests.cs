using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>The hooks Fit, Evaluate and Predict call, in Keras's order, and what a failing callback reports.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class CallbackOrderTests
{
    private static (Sequential Model, Tensor X, Tensor Y) Problem()
    {
        var model = new Sequential(new Linear(2, 3));
        model.Compile(new Sgd(lr: 0.1), Losses.CrossEntropy, new TestAccuracy());
        return (model, Tensor.Randn([8, 2]), Tensor.From<long>([0, 1, 2, 0, 1, 2, 0, 1]));
    }

    [Fact]
    public void Fit_calls_the_hooks_in_Keras_order_for_two_epochs_of_two_batches_with_validation()
    {
        var (model, x, y) = Problem();
        var recorder = new HookRecorder();

        model.Fit(x, y, batchSize: 4, epochs: 2, callbacks: [recorder], validationData: (x.Narrow(0, 0, 3), y.Narrow(0, 0, 3)), verbose: 0);

        string[] epoch(int e) =>
        [
            $"EpochBegin {e}",
            "TrainBatchBegin 0", "TrainBatchEnd 0",
            "TrainBatchBegin 1", "TrainBatchEnd 1",
            "TestBegin", "TestBatchBegin 0", "TestBatchEnd 0", "TestEnd",
            $"EpochEnd {e}",
        ];
        Assert.Equal(["TrainBegin", .. epoch(0), .. epoch(1), "TrainEnd"], recorder.Calls);
        Assert.Equal(["loss", "accuracy", "val_loss", "val_accuracy"], recorder.EpochLogs[0].Keys);
        Assert.Same(Trainer.Of(model), recorder.Trainer);
        Assert.Same(model, recorder.Model);
    }

    [Fact]
    public void Batch_logs_hold_running_means_over_the_epoch_and_begin_logs_are_empty()
    {
        var (model, x, y) = Problem();
        var batchLosses = new List<double>();
        var beginCounts = new List<int>();
        var recorder = new HookRecorder
        {
            OnCall = (hook, _, logs) =>
            {
                if (hook.EndsWith("Begin", StringComparison.Ordinal)) beginCounts.Add(logs.Count);
                if (hook == "TrainBatchEnd") batchLosses.Add(logs["loss"]);
            },
        };
        var losses = new List<double>();
        Loss recording = (p, t) =>
        {
            var value = F.CrossEntropy(p, t);
            if (model.IsTraining) losses.Add(value.Item());
            return value;
        };
        model.Compile(new Sgd(lr: 0.1), recording);

        var history = model.Fit(x, y, batchSize: 5, epochs: 1, callbacks: [recorder], shuffle: false, verbose: 0);

        // Batches of 5 and 3 samples: the epoch's loss weighs each batch mean by its size.
        Assert.Equal(losses[0], batchLosses[0]);
        Assert.Equal((losses[0] * 5 + losses[1] * 3) / 8, batchLosses[1], 1e-12);
        Assert.Equal(batchLosses[1], history["loss"][0]);
        Assert.All(beginCounts, count => Assert.Equal(0, count));
    }

    [Fact]
    public void A_value_a_callback_adds_at_epoch_end_reaches_the_History()
    {
        var (model, x, y) = Problem();
        var addsLr = new HookRecorder { OnCall = (hook, _, logs) => { if (hook == "EpochEnd") logs["lr"] = 0.1; } };

        var history = model.Fit(x, y, epochs: 2, callbacks: [addsLr], verbose: 0);

        Assert.Equal([0.1, 0.1], history["lr"]);
    }

    [Fact]
    public void Evaluate_and_Predict_call_their_hooks()
    {
        var (model, x, y) = Problem();
        var evaluate = new HookRecorder();
        var predict = new HookRecorder();

        model.Evaluate(x, y, batchSize: 4, callbacks: [evaluate], verbose: 0);
        model.Predict(x, batchSize: 4, callbacks: [predict]);

        Assert.Equal(["TestBegin", "TestBatchBegin 0", "TestBatchEnd 0", "TestBatchBegin 1", "TestBatchEnd 1", "TestEnd"], evaluate.Calls);
        Assert.Equal(["PredictBegin", "PredictBatchBegin 0", "PredictBatchEnd 0", "PredictBatchBegin 1", "PredictBatchEnd 1", "PredictEnd"], predict.Calls);
    }

    private sealed class Failing(string hook) : Callback
    {
        public override void OnEpochEnd(int epoch, IDictionary<string, double> logs)
        {
            if (hook == "EpochEnd" && epoch == 1) throw new InvalidOperationException("disk full");
        }

        public override void OnTrainBatchEnd(int batch, IDictionary<string, double> logs)
        {
            if (hook == "TrainBatchEnd" && batch == 1) throw new InvalidOperationException("disk full");
        }
    }

    [Fact]
    public void A_callback_exception_propagates_with_the_callback_hook_and_place()
    {
        var (model, x, y) = Problem();

        var atEpoch = Assert.Throws<KilnException>(() => model.Fit(x, y, batchSize: 4, epochs: 3, callbacks: [new Failing("EpochEnd")], verbose: 0));
        var atBatch = Assert.Throws<KilnException>(() => model.Fit(x, y, batchSize: 4, epochs: 3, callbacks: [new Failing("TrainBatchEnd")], verbose: 0));

        Assert.Equal("Fit: callback Failing.OnEpochEnd failed at epoch 1: InvalidOperationException: disk full", atEpoch.Message);
        Assert.IsType<InvalidOperationException>(atEpoch.InnerException);
        Assert.Equal("Fit: callback Failing.OnTrainBatchEnd failed at epoch 0, batch 1: InvalidOperationException: disk full", atBatch.Message);
        Assert.True(model.IsTraining);
    }
}
