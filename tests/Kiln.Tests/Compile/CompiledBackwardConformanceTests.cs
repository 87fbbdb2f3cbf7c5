using Kiln.Compile;
using Kiln.Ops;
using Kiln.Optim;
using Kiln.Tests.Ops;

namespace Kiln.Tests.Compile;

/// <summary>
/// Every op's backward rule traced into a training step's graph: for each differentiable sample, the
/// gradients of a weighted sum of the op's result with respect to its float inputs (made parameters)
/// are computed eagerly and by a replayed compiled step, and agree bit for bit. This proves that each
/// backward rule is written with ops that go through the dispatcher, so the tracer sees all of it.
/// </summary>
public sealed class CompiledBackwardConformanceTests
{
    public static TheoryData<string, int> Cases() => OpConformanceTests.Cases();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Compiled_gradients_give_the_eager_bits(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = op.SamplesUntyped().ElementAt(sampleIndex);
        if (!op.IsDifferentiable || !sample.CheckGradient) return;
        var inputs = sample.Inputs();
        var spec = op.InferUntyped(inputs.Select(TensorSpec.Of).ToArray(), sample.Attributes);
        var gradInputs = sample.GradInputs ?? Enumerable.Range(0, inputs.Length).Where(i => inputs[i].DType == DType.Float64).ToArray();
        if (!spec.DType.IsFloatingPoint() || gradInputs.Length == 0 || spec.Shape.NumElements == 0) return;
        var parameters = gradInputs.Select(i => inputs[i]).Distinct(ReferenceEqualityComparer.Instance).Cast<Tensor>().ToArray();
        foreach (var p in parameters) p.RequiresGrad = true;
        var weight = OpSample.Uniform(sampleIndex + 7, 0.5, 1.5, spec.Shape.Dims);
        Tensor Loss() => (Dispatcher.Call(op, sample.Attributes, inputs) * weight).Sum();

        var expected = Engine.Grad([Loss()], parameters, allowUnused: true);
        using var optimizer = new Sgd(parameters, lr: 0);
        using var step = new CompiledStep(opName + " gradients", _ => [Loss()], 0, 0, module: null, optimizer);
        step.Run([]);
        var plan = step.Run([]);
        Assert.Equal(1, step.TraceCount);
        for (int i = 0; i < parameters.Length; i++)
        {
            if (expected[i] is not { } e)
            {
                Assert.Null(plan.Gradient(i));
                continue;
            }
            CompileAssert.SameBits(e, plan.Gradient(i)!, $"{opName} [{sample.Description}] gradient of parameter {i}");
        }
    }
}
