using Kiln.Data;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;
using Kiln.Tests.Tensors;

namespace Kiln.Tests;

/// <summary>The README's example, kept compiling and working: an MLP learns a planted rule, then is saved and reloaded.</summary>
[Collection(RandomStateCollection.Name)]
public sealed class ReadmeExampleTests
{
    [Fact]
    public void Readme_example_trains_an_mlp_with_adam_and_saves_it()
    {
        string path = Path.Combine(Path.GetTempPath(), $"kiln-readme-{Guid.NewGuid():N}.safetensors");
        try
        {
            Engine.ManualSeed(42);
            var x = Tensor.Randn([4096, 20]);
            var y = x.MatMul(Tensor.Randn([20, 3])).ArgMax(1);      // labels from a hidden linear rule
            var loader = new DataLoader(new TensorDataset(x, y), batchSize: 64, shuffle: true);

            var model = new Sequential(new Linear(20, 64), new Relu(), new Linear(64, 3));
            using var optimizer = new Adam(model.Parameters(), lr: 1e-2);
            for (int epoch = 0; epoch < 5; epoch++)
                foreach (var (inputs, labels) in loader)
                {
                    using var scope = Engine.Scope();               // frees this step's temporaries
                    var loss = F.CrossEntropy(model.Call(inputs), labels);
                    optimizer.ZeroGrad();
                    loss.Backward();
                    optimizer.Step();
                }
            model.SaveWeights(path);

            var reloaded = new Sequential(new Linear(20, 64), new Relu(), new Linear(64, 3));
            reloaded.LoadWeights(path);
            using var noGrad = Engine.NoGrad();
            using var scope2 = Engine.Scope();
            double accuracy = reloaded.Call(x).ArgMax(1).Eq(y).To(DType.Float32).Mean().Item();
            Assert.True(accuracy > 0.9, $"training accuracy {accuracy:P1}");
            Assert.Equal(model.Call(x).ToArray<float>(), reloaded.Call(x).ToArray<float>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Readme_keras_style_example_fits_evaluates_saves_and_loads_without_code()
    {
        var dir = Directory.CreateTempSubdirectory("kiln-readme-keras-").FullName;
        try
        {
            Engine.ManualSeed(42);
            var x = Tensor.Randn([4096, 20]);
            var y = x.MatMul(Tensor.Randn([20, 3])).ArgMax(1);

            var keras = new Sequential(new Linear(64), new Relu(), new Linear(3));   // input sizes inferred
            keras.Compile(new Adam(lr: 1e-2), Losses.CrossEntropy, Metrics.Accuracy);
            var history = keras.Fit(x, y, batchSize: 64, epochs: 5, validationSplit: 0.1, verbose: 0,
                                    callbacks: [new EarlyStopping(patience: 2), new Kiln.IO.TensorBoard(Path.Combine(dir, "runs"))]);
            double accuracy = keras.Evaluate(x, y, verbose: 0)["accuracy"];
            keras.Save(Path.Combine(dir, "model.kmodel"));

            Assert.True(accuracy > 0.9, $"accuracy {accuracy:P1}");
            Assert.True(history["val_accuracy"][^1] > 0.9, $"validation accuracy {history["val_accuracy"][^1]:P1}");
            var loaded = SavedModel.Load(Path.Combine(dir, "model.kmodel"));
            Assert.Equal(keras.Predict(x).ToArray<float>(), loaded.Predict(x).ToArray<float>());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
