// The Fashion-MNIST CNN trained the Keras way on Kiln's own modules: Sequential, Compile, Fit with
// TensorBoard, ModelCheckpoint and EarlyStopping, Evaluate, Save; then Load into a fresh model and
// Predict without the code that built it.
//   dotnet run -c Release --project samples/KerasStyle -- [--epochs N] [--out DIR] [--data DIR]
using Kiln;
using Kiln.Data;
using Kiln.IO;
using Kiln.Models;
using Kiln.NN;
using Kiln.Optim;

int epochs = 3;
string outDir = "keras-style-run";
string? dataDir = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--epochs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var n) && n > 0: epochs = n; i++; break;
        case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
        case "--data" when i + 1 < args.Length: dataDir = args[++i]; break;
        default:
            Console.Error.WriteLine($"unknown or incomplete option {args[i]}\nusage: [--epochs N] [--out DIR] [--data DIR]");
            return 2;
    }
}

FashionMnist data;
try { data = FashionMnist.Load(dataDir); }
catch (KilnException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}
using var _ = data;

Engine.ManualSeed(0);
// Layers infer their input sizes on first use, as Keras layers do.
var model = new Sequential(
    new Conv2d(32, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
    new Conv2d(64, kernelSize: 5, padding: 2), new Relu(), new MaxPool2d(2),
    new Flatten(), new Linear(1024), new Relu(), new Dropout(0.4), new Linear(10));
Console.WriteLine(model.Summary(1, 28, 28));

model.Compile(new Adam(lr: 1e-3), Losses.CrossEntropy, Metrics.Accuracy);
var history = model.Fit(data.TrainImages, data.TrainLabels, batchSize: 64, epochs: epochs,
    validationData: (data.TestImages, data.TestLabels),
    callbacks: [
        new TensorBoard(Path.Combine(outDir, "logs")),
        new ModelCheckpoint(Path.Combine(outDir, "best.safetensors"), monitor: "val_accuracy", saveBestOnly: true, saveWeightsOnly: true),
        new EarlyStopping(monitor: "val_loss", patience: 2, restoreBestWeights: true),
    ]);

var scores = model.Evaluate(data.TestImages, data.TestLabels, batchSize: 1000, verbose: 0);
Console.WriteLine($"test loss {scores["loss"]:F4}, test accuracy {scores["accuracy"] * 100:F2}% after {history.Epochs.Count} epoch(s)");

string saved = Path.Combine(outDir, "fashion-mnist-cnn.kmodel");
model.Save(saved);
Console.WriteLine($"saved the model (architecture + weights + optimizer) to {Path.GetFullPath(saved)}");

// A fresh model from the file alone: no C# that built it is needed.
var loaded = SavedModel.Load(saved);
using (Engine.Scope())
{
    var first = data.TestImages.Narrow(0, 0, 8);
    var predicted = loaded.Predict(first).ArgMax(1).ToArray<long>();
    var expected = data.TestLabels.Narrow(0, 0, 8).ToArray<long>();
    Console.WriteLine("predicted: " + string.Join(", ", predicted.Select(c => FashionMnist.Classes[(int)c])));
    Console.WriteLine("true:      " + string.Join(", ", expected.Select(c => FashionMnist.Classes[(int)c])));
}
Console.WriteLine($"TensorBoard logs: tensorboard --logdir {Path.GetFullPath(Path.Combine(outDir, "logs"))}");
return 0;
