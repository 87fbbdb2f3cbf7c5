using System.Diagnostics;
using Kiln;
using Kiln.NN;

// Time per call and managed bytes per call of tiny eager ops. Each case runs `rounds` rounds of
// `calls` calls; the report is the median, 10th percentile and minimum of the per-round averages,
// because the machine is shared and noisy (the low percentiles show the uncontended cost).
int rounds = args.Length > 0 ? int.Parse(args[0]) : 301;
int calls = args.Length > 1 ? int.Parse(args[1]) : 2000;

var a = Tensor.From<float>([1f], 1);
var b = Tensor.From<float>([2f], 1);
var ga = Tensor.From<float>([1f], 1); ga.RequiresGrad = true;
var gb = Tensor.From<float>([2f], 1); gb.RequiresGrad = true;
var m = Tensor.Rand([4, 8]);
var row = Tensor.Rand([8]);
var x = Tensor.Rand([1, 64]);
var w = Tensor.Rand([10, 64]);
var bias = Tensor.Rand([10]);

Run("Add [1]+[1] no grad", () => { using var y = a + b; });
Run("Add [1]+[1] requires_grad", () => { using var y = ga + gb; });
Run("Add [4,8]+[8] broadcast", () => { using var y = m + row; });
Run("Add [1] + 2.0 scalar", () => { using var y = a + 2.0; });
Run("F.Linear [1,64]->[1,10]", () => { using var y = F.Linear(x, w, bias); });
Run("Relu [4,8]", () => { using var y = F.Relu(m); });
// A training step's pattern: tensors are not disposed one by one but by the scope at its end.
RunBatched("Add [1]+[1] in a scope of 500", 500, () => { _ = a + b; });
RunBatched("[1] * 2.0 + 1.0 in a scope of 500", 500, () => { _ = a * 2.0 + 1.0; });

void RunBatched(string name, int perScope, Action body) => Run(name, () =>
{
    using var scope = Engine.Scope();
    for (int i = 0; i < perScope; i++) body();
}, perScope);

// Runs `body` (which makes `callsPerBody` calls) in rounds of about `calls` calls each.
void Run(string name, Action body, int callsPerBody = 1)
{
    // Warm up long enough for tiered compilation to finish its optimized code even on a loaded machine.
    for (int pass = 0; pass < 3; pass++)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 4;
        while (Stopwatch.GetTimestamp() < until) body();
        Thread.Sleep(150);
    }
    int bodies = Math.Max(1, calls / callsPerBody);
    var ns = new double[rounds];
    var bytes = new double[rounds];
    for (int r = 0; r < rounds; r++)
    {
        long b0 = GC.GetAllocatedBytesForCurrentThread();
        long t0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < bodies; i++) body();
        long t1 = Stopwatch.GetTimestamp();
        long b1 = GC.GetAllocatedBytesForCurrentThread();
        ns[r] = (t1 - t0) * 1e9 / Stopwatch.Frequency / (bodies * callsPerBody);
        bytes[r] = (double)(b1 - b0) / (bodies * callsPerBody);
    }
    Array.Sort(ns);
    Array.Sort(bytes);
    Console.WriteLine($"{name,-36} median {ns[rounds / 2],6:F0}  p10 {ns[rounds / 10],6:F0}  min {ns[0],6:F0} ns/call   {bytes[rounds / 2],5:F0} B/call");
}
