// Times the Fashion-MNIST CNN's conv and pool layers at batch 64 through the public API
// (medians in ms per call); conv-probe.py times the same layers in PyTorch. Run alternately, e.g.
//   dotnet run -c Release --project bench/conv-probe -- 15
using System.Diagnostics;
using Kiln;
using Kiln.NN;

int reps = args.Length > 0 ? int.Parse(args[0]) : 30;
var x1 = Tensor.Randn([64, 1, 28, 28]);
var w1 = Tensor.Randn([32, 1, 5, 5]);
var x2 = Tensor.Randn([64, 32, 14, 14]);
var w2 = Tensor.Randn([64, 32, 5, 5]);
var p1 = Tensor.Randn([64, 32, 28, 28]);
var p2 = Tensor.Randn([64, 64, 14, 14]);
var g1 = Tensor.Randn([64, 32, 28, 28]);
var g2 = Tensor.Randn([64, 64, 14, 14]);
var gp1 = Tensor.Randn([64, 32, 14, 14]);
var gp2 = Tensor.Randn([64, 64, 7, 7]);

void Forward(Tensor x, Tensor w) { using var s = Engine.Scope(); using var ng = Engine.NoGrad(); F.Conv2d(x, w, padding: 2); }
void Both(Tensor x, Tensor w, Tensor g, bool inputGrad)
{
    using var s = Engine.Scope();
    var xx = x;
    if (inputGrad) { xx = x.Clone(); xx.RequiresGrad = true; }
    w.RequiresGrad = true;
    var y = F.Conv2d(xx, w, padding: 2);
    y.Backward(g);
    w.Grad = null;
    w.RequiresGrad = false;
}
void Pool(Tensor x) { using var s = Engine.Scope(); using var ng = Engine.NoGrad(); F.MaxPool2d(x, 2); }
void PoolBoth(Tensor x, Tensor g)
{
    using var s = Engine.Scope();
    var xx = x.Clone(); xx.RequiresGrad = true;
    F.MaxPool2d(xx, 2).Backward(g);
}

var cases = new (string Name, Action Run)[]
{
    ("conv1 fwd", () => Forward(x1, w1)),
    ("conv1 fwd+bwd (w)", () => Both(x1, w1, g1, false)),
    ("conv1 fwd+bwd (x,w)", () => Both(x1, w1, g1, true)),
    ("conv2 fwd", () => Forward(x2, w2)),
    ("conv2 fwd+bwd (x,w)", () => Both(x2, w2, g2, true)),
    ("pool1 fwd", () => Pool(p1)),
    ("pool1 fwd+bwd", () => PoolBoth(p1, gp1)),
    ("pool2 fwd", () => Pool(p2)),
    ("pool2 fwd+bwd", () => PoolBoth(p2, gp2)),
};
foreach (var (name, run) in cases)
{
    for (int i = 0; i < 5; i++) run();
    var times = new double[reps];
    for (int i = 0; i < reps; i++)
    {
        var t = Stopwatch.GetTimestamp();
        run();
        times[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
    }
    Array.Sort(times);
    Console.WriteLine($"{name,-22} {times[reps / 2],8:F3} ms");
}

