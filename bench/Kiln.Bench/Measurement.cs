using System.Diagnostics;

namespace Kiln.Bench;

/// <summary>
/// Times one call: warm-up, a calibration of how many calls make one repetition, then the timed
/// repetitions. Each sample is the mean seconds per call over one repetition. The same procedure is
/// written in bench/peers/torch_bench.py so both sides are measured alike.
/// </summary>
internal static class Measurement
{
    internal static Timing Run(Action call, MeasureOptions options, bool first)
    {
        double warmupMs = first ? Math.Max(options.WarmupMs, options.FirstWarmupMs) : options.WarmupMs;
        var clock = Stopwatch.StartNew();
        int warmCalls = 0;
        while (warmCalls < 2 || clock.Elapsed.TotalMilliseconds < warmupMs)
        {
            call();
            warmCalls++;
        }

        // Calibrate: double the batch until it lasts at least half a repetition.
        double repSeconds = options.RepMs / 1000;
        int batch = 1;
        double perCall;
        while (true)
        {
            double seconds = TimeBatch(call, batch);
            perCall = seconds / batch;
            if (seconds >= repSeconds / 2 || batch >= 1 << 22) break;
            batch *= 2;
        }
        int inner = Math.Max(1, (int)Math.Round(repSeconds / perCall));
        int reps = options.Reps;
        double planned = reps * inner * perCall * 1000;
        if (planned > options.MaxMs)
            reps = Math.Max(MeasureOptions.MinReps, (int)(options.MaxMs / (inner * perCall * 1000)));

        var samples = new double[reps];
        for (int r = 0; r < reps; r++) samples[r] = TimeBatch(call, inner) / inner;
        return new Timing(samples, inner);
    }

    private static double TimeBatch(Action call, int count)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++) call();
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}
