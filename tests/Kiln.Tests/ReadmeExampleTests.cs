using Kiln.Data;
using Kiln.IO;
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
}
