using Kiln.Data;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests.Models;

/// <summary>Fit: convergence, determinism, validation, class weights, stopping, resuming and parameter adoption.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class FitTests
{
    private static float[] Values(Tensor t) => t.ToArray<float>();

    private static Sequential SmallClassifier() => new(new Linear(4, 8), new Relu(), new Linear(8, 3));

    private static (Tensor X, Tensor Y) ClassificationData(int n)
    {
        var x = Tensor.Randn([n, 4]);
        // The class is which of the first three features is largest: learnable by the small MLP.
        var y = x.Narrow(1, 0, 3).ArgMax(1);
        return (x, y);
    }

    private static Sequential CopyOf(Sequential model, Func<Sequential> make)
    {
        var copy = make();
        copy.LoadStateDict(model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone()));
        return copy;
    }

    [Fact]
    public void Fit_learns_a_linear_regression_to_its_true_coefficients()
    {
        Engine.ManualSeed(0);
        var x = Tensor.Uniform(-1, 1, [256, 1]);
        var y = x * 3 + 1;
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.3), Losses.MeanSquaredError);

        var history = model.Fit(x, y, batchSize: 32, epochs: 25, verbose: 0);

        Assert.Equal(3.0, Values(model.Weight)[0], 1e-3);
        Assert.Equal(1.0, Values(model.Bias!)[0], 1e-3);
        Assert.Equal(Enumerable.Range(0, 25), history.Epochs);
        Assert.True(history["loss"][0] > 1.0 && history["loss"][24] < 1e-6, $"loss went from {history["loss"][0]} to {history["loss"][24]}");
    }

    [Fact]
    public void Fit_learns_a_classifier_that_Evaluate_scores_above_95_percent()
    {
        Engine.ManualSeed(1);
        var (x, y) = ClassificationData(600);
        var model = SmallClassifier();
        model.Compile(new Adam(lr: 0.02), Losses.CrossEntropy, new TestAccuracy());

        var history = model.Fit(x, y, batchSize: 32, epochs: 15, verbose: 0);
        var (testX, testY) = ClassificationData(300);
        var scores = model.Evaluate(testX, testY, verbose: 0);

        Assert.True(scores["accuracy"] >= 0.95, $"test accuracy {scores["accuracy"]:P1}");
        Assert.True(history["accuracy"][14] > history["accuracy"][0]);
        Assert.Equal(["loss", "accuracy"], history.Keys);
    }

    [Fact]
    public void Fit_from_tensors_and_from_a_DataLoader_give_the_same_weights_bit_for_bit()
    {
        Engine.ManualSeed(2);
        var (x, y) = ClassificationData(50);
        var fromTensors = SmallClassifier();
        var fromLoader = CopyOf(fromTensors, SmallClassifier);
        var initial = fromTensors.Parameters().Select(Values).ToList();
        fromTensors.Compile(new Adam(lr: 0.01), Losses.CrossEntropy);
        fromLoader.Compile(new Adam(lr: 0.01), Losses.CrossEntropy);

        fromTensors.Fit(x, y, batchSize: 16, epochs: 3, shuffle: false, verbose: 0);
        fromLoader.Fit(new DataLoader(new TensorDataset(x, y), batchSize: 16), epochs: 3, verbose: 0);

        var expected = fromLoader.Parameters().Select(Values).ToList();
        var actual = fromTensors.Parameters().Select(Values).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], actual[i]);
            Assert.NotEqual(initial[i], actual[i]);
        }
    }

    [Fact]
    public void Shuffled_Fit_repeats_under_the_same_seed_and_matches_a_shuffling_DataLoader()
    {
        Engine.ManualSeed(3);
        var (x, y) = ClassificationData(40);
        var start = SmallClassifier();

        float[] Train(Func<Sequential, History> fit)
        {
            var model = CopyOf(start, SmallClassifier);
            model.Compile(new Sgd(lr: 0.1), Losses.CrossEntropy);
            Engine.ManualSeed(7);
            fit(model);
            return model.Parameters().SelectMany(Values).ToArray();
        }

        var first = Train(m => m.Fit(x, y, batchSize: 8, epochs: 2, shuffle: true, verbose: 0));
        var again = Train(m => m.Fit(x, y, batchSize: 8, epochs: 2, shuffle: true, verbose: 0));
        var loader = Train(m => m.Fit(new DataLoader(new TensorDataset(x, y), batchSize: 8, shuffle: true), epochs: 2, verbose: 0));
        var unshuffled = Train(m => m.Fit(x, y, batchSize: 8, epochs: 2, shuffle: false, verbose: 0));

        Assert.Equal(first, again);
        Assert.Equal(first, loader);
        Assert.NotEqual(first, unshuffled);
    }

    [Fact]
    public void ValidationSplit_holds_out_the_last_fraction_before_shuffling()
    {
        var x = Tensor.Arange(0.0, 10.0).Reshape(10, 1);
        var model = new Linear(1, 1);
        var seen = new List<(bool Training, float[] Targets)>();
        Loss recording = (p, t) =>
        {
            seen.Add((model.IsTraining, Values(t)));
            return F.MseLoss(p, t);
        };
        model.Compile(new Sgd(lr: 0), recording);

        var history = model.Fit(x, x, batchSize: 4, epochs: 1, validationSplit: 0.2, shuffle: false, verbose: 0);

        Assert.Equal([true, true, false], seen.Select(s => s.Training));
        Assert.Equal([0f, 1, 2, 3], seen[0].Targets);
        Assert.Equal([4f, 5, 6, 7], seen[1].Targets);
        Assert.Equal([8f, 9], seen[2].Targets);
        Assert.Equal(["loss", "val_loss"], history.Keys);

        seen.Clear();
        Engine.ManualSeed(4);
        model.Fit(x, x, batchSize: 4, epochs: 1, validationSplit: 0.2, shuffle: true, verbose: 0);
        Assert.Equal([0f, 1, 2, 3, 4, 5, 6, 7], seen.Where(s => s.Training).SelectMany(s => s.Targets).Order());
        Assert.Equal([8f, 9], seen.Single(s => !s.Training).Targets);
    }

    [Fact]
    public void ClassWeight_makes_the_loss_the_weighted_mean_of_the_per_sample_losses()
    {
        var model = new Linear(1, 1);
        using (Engine.NoGrad())
        {
            model.Weight.ZeroInPlace();
            model.Bias!.ZeroInPlace();
        }
        var x = Tensor.Zeros([4, 1]);
        var y = Tensor.From<float>([1, 0, 0, 1], 4, 1);
        model.Compile(new Sgd(lr: 0), Losses.MeanSquaredError);

        // Per-sample losses (0 - y)^2 = [1, 0, 0, 1]; class 1 weighs 3, class 0 (not named) 1:
        // sum(w·l) / sum(w) = (3 + 3) / (3 + 1 + 1 + 3) = 0.75, where the plain mean is 0.5.
        var weighted = model.Fit(x, y, batchSize: 4, classWeight: new Dictionary<int, double> { [1] = 3.0 }, verbose: 0);
        var plain = model.Fit(x, y, batchSize: 4, verbose: 0);

        Assert.Equal(0.75, weighted["loss"][0]);
        Assert.Equal(0.5, plain["loss"][0]);
        Assert.NotSame(weighted, plain);
    }

    [Fact]
    public void ClassWeight_with_cross_entropy_matches_F_CrossEntropy_with_class_weights()
    {
        Engine.ManualSeed(5);
        var (x, y) = ClassificationData(12);
        var model = SmallClassifier();
        double expected;
        using (Engine.NoGrad())
            expected = F.CrossEntropy(model.Call(x), y, weight: Tensor.From<float>([0.5f, 2f, 1f])).Item();
        model.Compile(new Sgd(lr: 0), Losses.CrossEntropy);

        var history = model.Fit(x, y, batchSize: 12, classWeight: new Dictionary<int, double> { [0] = 0.5, [1] = 2 }, verbose: 0);

        Assert.Equal(expected, history["loss"][0], 1e-6);
    }

    [Fact]
    public void StopTraining_set_at_an_epoch_end_ends_Fit_after_that_epoch()
    {
        var x = Tensor.Zeros([8, 1]);
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        var recorder = new HookRecorder { OnCall = (hook, index, _) => { if (hook == "EpochEnd" && index == 1) Trainer.Of(model).StopTraining = true; } };

        var history = model.Fit(x, x, batchSize: 4, epochs: 5, callbacks: [recorder], verbose: 0);

        Assert.Equal([0, 1], history.Epochs);
        Assert.Equal("TrainEnd", recorder.Calls[^1]);
        Assert.Equal("EpochEnd 1", recorder.Calls[^2]);
    }

    [Fact]
    public void StopTraining_set_at_a_batch_end_skips_the_rest_of_the_epoch_as_in_Keras()
    {
        var x = Tensor.Zeros([12, 1]);
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        var recorder = new HookRecorder { OnCall = (hook, index, _) => { if (hook == "TrainBatchEnd" && index == 0) Trainer.Of(model).StopTraining = true; } };

        var history = model.Fit(x, x, batchSize: 4, epochs: 3, callbacks: [recorder], verbose: 0);

        Assert.Equal([0], history.Epochs);
        Assert.Equal(["TrainBegin", "EpochBegin 0", "TrainBatchBegin 0", "TrainBatchEnd 0", "EpochEnd 0", "TrainEnd"], recorder.Calls);
        Assert.False(model.Fit(x, x, batchSize: 4, epochs: 2, verbose: 0).Epochs.Count < 2, "a new Fit starts with StopTraining cleared");
    }

    [Fact]
    public void A_resumed_Fit_sees_the_same_batches_as_an_uninterrupted_one()
    {
        var x = Tensor.Arange(0.0, 12.0).Reshape(12, 1);
        var model = new Linear(1, 1);
        var order = new List<float>();
        Loss recording = (p, t) =>
        {
            if (model.IsTraining) order.AddRange(Values(t));
            return F.MseLoss(p, t);
        };
        model.Compile(new Sgd(lr: 0), recording);
        var loader = new DataLoader(new TensorDataset(x, x), batchSize: 4, shuffle: true, seed: 9);

        model.Fit(loader, epochs: 3, verbose: 0);
        var lastEpoch = order.Skip(24).ToList();
        order.Clear();
        var history = model.Fit(loader, epochs: 3, initialEpoch: 2, verbose: 0);

        Assert.Equal(lastEpoch, order);
        Assert.Equal([2], history.Epochs);
        Assert.Equal(3, loader.Epoch);
    }

    [Fact]
    public void A_callback_may_move_InitialEpoch_in_OnTrainBegin()
    {
        var x = Tensor.Zeros([4, 1]);
        var model = new Linear(1, 1);
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        var recorder = new HookRecorder { OnCall = (hook, _, _) => { if (hook == "TrainBegin") Trainer.Of(model).InitialEpoch = 3; } };

        var history = model.Fit(x, x, epochs: 4, callbacks: [recorder], verbose: 0);

        Assert.Equal([3], history.Epochs);
        Assert.Contains("EpochBegin 3", recorder.Calls);
        Assert.DoesNotContain("EpochBegin 0", recorder.Calls);
    }

    [Fact]
    public void Each_Fit_returns_its_own_History_and_the_trainer_holds_the_last_one()
    {
        var x = Tensor.Zeros([4, 1]);
        var model = new Linear(1, 1);
        var trainer = model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);

        var first = model.Fit(x, x, epochs: 3, verbose: 0);
        var second = model.Fit(x, x, epochs: 2, verbose: 0);

        Assert.Equal([0, 1], second.Epochs);
        Assert.Equal(2, second["loss"].Count);
        Assert.Equal([0, 1], trainer.History.Epochs);
        Assert.Equal(second["loss"], trainer.History["loss"]);
        Assert.Equal([0, 1, 2], first.Epochs);
    }

    /// <summary>A layer that creates its weight on its first call, from the input's width (as a lazy layer does).</summary>
    private sealed class LazyScale : Module
    {
        private Tensor? _weight;

        public Tensor? Weight => _weight;

        public override Tensor Forward(Tensor input)
        {
            _weight ??= RegisterParameter("weight", Tensor.Ones([input.Size(1)]));
            return input * _weight;
        }
    }

    [Fact]
    public void Fit_gives_a_parameterless_optimizer_the_parameters_a_lazy_layer_creates_on_its_first_call()
    {
        var lazy = new LazyScale();
        var model = new Sequential(lazy, new Linear(3, 1));
        var optimizer = new Sgd(lr: 0.1);
        model.Compile(optimizer, Losses.MeanSquaredError);
        Assert.Null(lazy.Weight);
        Assert.Equal(2, model.Parameters().Count());

        model.Fit(Tensor.Ones([4, 3]), Tensor.Full([4, 1], 5.0), batchSize: 4, epochs: 1, verbose: 0);

        var group = Assert.Single(optimizer.ParamGroups);
        Assert.Equal(3, group.Params.Count);
        Assert.Contains(lazy.Weight!, group.Params);
        Assert.NotEqual(new float[] { 1, 1, 1 }, Values(lazy.Weight!));
    }

    [Fact]
    public void Fit_leaves_an_optimizer_that_already_holds_the_parameters_alone()
    {
        var model = new Linear(2, 1);
        var optimizer = new Sgd(model.Parameters(), lr: 0.1);
        model.Compile(optimizer, Losses.MeanSquaredError);

        model.Fit(Tensor.Ones([4, 2]), Tensor.Ones([4, 1]), verbose: 0);

        Assert.Single(optimizer.ParamGroups);
    }

    [Fact]
    public void Fit_Evaluate_and_Predict_restore_every_module_training_mode()
    {
        var model = new Sequential(new Linear(2, 2), new Dropout(0.5), new Linear(2, 1));
        model.Compile(new Sgd(lr: 0.1), Losses.MeanSquaredError);
        model.Train();
        model[1].Eval();
        var x = Tensor.Ones([4, 2]);
        var y = Tensor.Ones([4, 1]);

        model.Fit(x, y, validationData: (x, y), verbose: 0);
        model.Evaluate(x, y, verbose: 0);
        model.Predict(x);

        Assert.Equal([true, true, false, true], model.Modules().Select(m => m.IsTraining));
        model.Eval();
        model.Fit(x, y, verbose: 0);
        Assert.All(model.Modules(), m => Assert.False(m.IsTraining));
    }
}
