namespace FashionMnistSample;

/// <summary>The command line: <c>--epochs N --model cnn|mlp --batch-size N --lr X --seed N --data DIR --out FILE</c>.</summary>
internal sealed record Options(int Epochs, string Model, int BatchSize, double LearningRate, int Seed, string? DataPath, string? Output)
{
    internal const string Usage =
        """
        usage: dotnet run -c Release --project samples/FashionMnist -- [options]
          --epochs N       passes over the 60,000 training images (default 5)
          --model NAME     cnn (the Fashion-MNIST benchmark CNN, default) or mlp (784-256-128-10; faster)
          --batch-size N   default 64
          --lr X           Adam learning rate, default 0.001
          --seed N         seeds the weights, dropout and the shuffle (default 0)
          --data DIR       where the dataset is (default: search KILN_DATA, ~/.cache/kiln, /usr/share/datasets, then download)
          --out FILE       where to save the trained weights (default fashion-mnist-MODEL.safetensors)
        """;

    /// <summary>The options, or null after printing the usage (for --help or a bad argument).</summary>
    internal static Options? Parse(string[] args)
    {
        var o = new Options(5, "cnn", 64, 1e-3, 0, null, null);
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                o = args[i] switch
                {
                    "--epochs" => o with { Epochs = Positive(args[i], int.Parse(Value())) },
                    "--model" => o with { Model = ModelName(Value()) },
                    "--batch-size" => o with { BatchSize = Positive(args[i], int.Parse(Value())) },
                    "--lr" => o with { LearningRate = double.Parse(Value()) },
                    "--seed" => o with { Seed = int.Parse(Value()) },
                    "--data" => o with { DataPath = Value() },
                    "--out" => o with { Output = Value() },
                    "--help" or "-h" => throw new ArgumentException(""),
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                if (e.Message.Length > 0) Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine(Usage);
                return null;
            }
        }
        return o;
    }

    private static string ModelName(string name) =>
        name is "mlp" or "cnn" ? name : throw new ArgumentException($"--model is mlp or cnn, not {name}");

    private static int Positive(string name, int value) =>
        value > 0 ? value : throw new ArgumentException($"{name} must be positive, got {value}");
}
