using Kiln.Models;
using Kiln.NN;

namespace Kiln.Tests.Models;

/// <summary>sum = a(x0) + b(x1) and scaled = c(x1): two inputs, two outputs (the multi-input training tests share it).</summary>
internal sealed class TwoTowers : Module, IMultiInputModel
{
    private readonly Linear _a = new(2, 1);
    private readonly Linear _b = new(3, 1);
    private readonly Linear _c = new(3, 2);

    public int InputCount => 2;

    public int OutputCount => 2;

    public Tensor[] Forward(IReadOnlyList<Tensor> inputs) => [_a.Call(inputs[0]) + _b.Call(inputs[1]), _c.Call(inputs[1])];
}
