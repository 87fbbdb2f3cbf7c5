using Kiln.Autograd;
using Kiln.Ops;
using Xunit.Abstractions;

namespace Kiln.Tests.Ops;

/// <summary>
/// Runs every registered primitive through the same checks, driven only by its declaration: shape
/// inference, forward against the float64 reference in float64 and float32, non-contiguous inputs,
/// the float64 gradient check, and the shape errors it must raise.
/// </summary>
public sealed class OpConformanceTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Cases()
    {
        var data = new TheoryData<string, int>();
        foreach (var op in OpRegistry.All)
        {
            int i = 0;
            foreach (var _ in op.SamplesUntyped()) data.Add(op.Name, i++);
        }
        return data;
    }

    public static TheoryData<string, int> InvalidCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var op in OpRegistry.All)
        {
            int i = 0;
            foreach (var _ in op.InvalidSamplesUntyped()) data.Add(op.Name, i++);
        }
        return data;
    }

    private static OpSample Sample(string name, int index) => OpRegistry.Get(name).SamplesUntyped().ElementAt(index);

    private static Tensor Run(OpDef op, OpSample sample, Tensor[] inputs) => Dispatcher.Call(op, sample.Attributes, inputs);

    [Fact]
    public void Every_primitive_declares_samples()
    {
        var missing = OpRegistry.All.Where(op => !op.SamplesUntyped().Any()).Select(op => op.Name).ToList();
        Assert.True(missing.Count == 0, "ops without conformance samples: " + string.Join(", ", missing));
    }

    // Ops that accept every shape and dtype they can be called with, so there is no bad input to declare.
    private static readonly string[] AcceptAnyInput = ["Clone", "Cast"];

    [Fact]
    public void Every_primitive_declares_inputs_it_refuses()
    {
        var missing = OpRegistry.All
            .Where(op => !op.InvalidSamplesUntyped().Any() && !AcceptAnyInput.Contains(op.Name))
            .Select(op => op.Name).ToList();
        Assert.True(missing.Count == 0, "ops without invalid-input samples: " + string.Join(", ", missing));
    }

    [Fact]
    public void Primitive_list_is_printed()
    {
        var names = OpRegistry.All.Select(op => op.Name).ToList();
        output.WriteLine($"primitives: {names.Count}: {string.Join(", ", names)}");
        Assert.Contains("Add", names);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_float64_matches_reference(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = Sample(opName, sampleIndex);
        var inputs = sample.Inputs();
        var expected = op.ReferenceUntyped(inputs, sample.Attributes);
        var actual = Run(op, sample, inputs);
        var spec = op.InferUntyped(inputs.Select(TensorSpec.Of).ToArray(), sample.Attributes);
        Assert.Equal(spec.Shape, actual.Shape);
        Assert.Equal(spec.DType, actual.DType);
        Assert.Equal(expected.Shape, actual.Shape);
        TestTensors.AssertClose(TestTensors.Values(expected), TestTensors.Values(actual), 1e-10, 1e-12, $"{opName} [{sample.Description}] float64");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_float32_matches_reference(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = Sample(opName, sampleIndex);
        var inputs = sample.Inputs();
        var expected = op.ReferenceUntyped(inputs, sample.Attributes);
        var inputs32 = inputs.Select(t => t.DType == DType.Float64 ? t.To(DType.Float32) : t).ToArray();
        var actual = Run(op, sample, inputs32);
        Assert.Equal(expected.Shape, actual.Shape);
        var tol = sample.Float32Tolerance;
        TestTensors.AssertClose(TestTensors.Values(expected), TestTensors.Values(actual), tol, tol, $"{opName} [{sample.Description}] float32");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_on_non_contiguous_inputs_matches_contiguous(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = Sample(opName, sampleIndex);
        var inputs = sample.Inputs();
        var dense = Run(op, sample, inputs);
        var strided = Run(op, sample, inputs.Select(TestTensors.Strided).ToArray());
        Assert.Equal(dense.Shape, strided.Shape);
        TestTensors.AssertClose(TestTensors.Values(dense), TestTensors.Values(strided), 0, 0, $"{opName} [{sample.Description}] strided");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Backward_matches_finite_differences(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var sample = Sample(opName, sampleIndex);
        if (!op.IsDifferentiable || !sample.CheckGradient) return;
        var inputs = sample.Inputs();
        var gradInputs = sample.GradInputs ?? Enumerable.Range(0, inputs.Length).Where(i => inputs[i].DType == DType.Float64).ToArray();
        var spec = op.InferUntyped(inputs.Select(TensorSpec.Of).ToArray(), sample.Attributes);
        if (!spec.DType.IsFloatingPoint() || gradInputs.Length == 0) return;
        foreach (var i in gradInputs) inputs[i].RequiresGrad = true;
        GradCheck.Check(xs => Run(op, sample, xs), inputs);
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Invalid_inputs_raise_an_error_naming_the_op_and_shapes(string opName, int sampleIndex)
    {
        var op = OpRegistry.Get(opName);
        var bad = op.InvalidSamplesUntyped().ElementAt(sampleIndex);
        var ex = Assert.Throws<KilnShapeException>(() => op.InferUntyped(bad.Inputs, bad.Attributes));
        Assert.Contains(opName, ex.Message);
        foreach (var input in bad.Inputs) Assert.Contains(input.Shape.ToString(), ex.Message);
    }
}
