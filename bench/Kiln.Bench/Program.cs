using Kiln.Bench;

try
{
    if (args.Length > 0 && args[0] == "train") return Kiln.Bench.Training.TrainingRun.Run(args[1..]);
    if (args.Length > 0 && args[0] == "profile") return ProfileRun.Run(args[1..]);
    var options = BenchOptions.Parse(args);
    if (options.Help)
    {
        Console.WriteLine(BenchOptions.Usage);
        return 0;
    }
    if (options.Compare) return new Comparison(options).Run();
    return LocalRunner.Run(options);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"Kiln.Bench: {e.Message}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}
