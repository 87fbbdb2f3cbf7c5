// Trains a classifier on Fashion-MNIST with a PyTorch-style loop: shuffle, batch, forward, loss,
// backward, Adam step; then reports test accuracy after each epoch.
using System.Diagnostics;
using FashionMnistSample;
using Kiln;
using Kiln.Data;
using Kiln.NN;

if (Options.Parse(args) is not { } options) return 2;

FashionMnist data;
try
{
    data = FashionMnist.Load(options.DataPath);
}
catch (KilnException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
using var _ = data;
int trainCount = data.TrainLabels.NumElements;
Console.WriteLine($"Fashion-MNIST from {data.Directory}: {trainCount} training and {data.TestLabels.NumElements} test images");

Engine.ManualSeed((ulong)options.Seed);
Network model = options.Model == "cnn" ? new Cnn() : new Mlp();
var optimizer = new Adam(model.Parameters, options.LearningRate);
Console.WriteLine($"{model}: {model.ParameterCount:N0} parameters; Adam lr {options.LearningRate}, batch {options.BatchSize}, {options.Epochs} epoch(s)");

// The shuffle is a Fisher-Yates permutation from System.Random seeded with --seed: the same seed
// gives the same batches in every run (Kiln's own seeded RNG drives the weights and dropout).
var shuffle = new Random(options.Seed);
var order = new long[trainCount];
for (int i = 0; i < trainCount; i++) order[i] = i;
bool live = !Console.IsOutputRedirected;

for (int epoch = 1; epoch <= options.Epochs; epoch++)
{
    shuffle.Shuffle(order);
    double lossSum = 0;
    var clock = Stopwatch.StartNew();
    for (int start = 0; start < trainCount; start += options.BatchSize)
    {
        using var scope = Engine.Scope();   // frees this step's batch, activations and gradients of non-leaves
        int count = Math.Min(options.BatchSize, trainCount - start);
        var index = Tensor.From<long>(order.AsSpan(start, count));
        var images = data.TrainImages.IndexSelect(0, index);
        var labels = data.TrainLabels.IndexSelect(0, index);

        var loss = F.CrossEntropy(model.Forward(images, training: true), labels);
        optimizer.ZeroGrad();
        loss.Backward();
        optimizer.Step();

        lossSum += loss.Item() * count;
        if (live && (start / options.BatchSize) % 50 == 0)
        {
            int done = start + count;
            double rate = done / clock.Elapsed.TotalSeconds;
            Console.Write($"\repoch {epoch}/{options.Epochs}  {done,6}/{trainCount}  loss {lossSum / done:F4}  {rate,8:N0} images/s  ETA {(trainCount - done) / rate,4:F0} s   ");
        }
    }
    double seconds = clock.Elapsed.TotalSeconds;
    double accuracy = Evaluate(model, data.TestImages, data.TestLabels);
    if (live) Console.Write("\r");
    Console.WriteLine($"epoch {epoch}/{options.Epochs}  loss {lossSum / trainCount:F4}  {trainCount / seconds,8:N0} images/s  ({seconds:F1} s)  test accuracy {accuracy * 100:F2}%");
}

Console.WriteLine();
Console.WriteLine("Not in Kiln yet, so not done here: saving the trained weights (safetensors, checkpoints) and");
Console.WriteLine("exporting the model (ONNX, .kiln) arrive with later issues, as do Module, the optimizers and");
Console.WriteLine("DataLoader that this sample writes by hand. The weights of this run are discarded.");
return 0;

// Fraction of test images whose highest logit is the true class, in batches of 1000 without autograd.
static double Evaluate(Network model, Tensor images, Tensor labels)
{
    using var noGrad = Engine.NoGrad();
    long correct = 0;
    int n = labels.NumElements;
    for (int start = 0; start < n; start += 1000)
    {
        using var scope = Engine.Scope();
        int count = Math.Min(1000, n - start);
        var predicted = model.Forward(images.Narrow(0, start, count), training: false).ArgMax(1);
        correct += (long)predicted.Eq(labels.Narrow(0, start, count)).Sum().Item();
    }
    return (double)correct / n;
}
