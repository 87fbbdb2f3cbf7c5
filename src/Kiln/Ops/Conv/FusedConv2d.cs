using System.Runtime.CompilerServices;
using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// A compiled graph's <see cref="Conv2dOp"/> node with what follows it folded in (by the compiler's
/// <c>Conv2dFusionPass</c>): a constant float32 weight packed once into the implicit-GEMM kernel's panels
/// (<see cref="Attributes.Packed"/>), and a ReLU that alone read the convolution's result applied as each
/// output tile is stored (<see cref="Attributes.Relu"/>), which saves a pass over the output. Inputs are
/// the convolution's: input, weight and optionally bias. The result has the bits of the Conv2d (and Relu)
/// nodes it replaces: the same tiles sum the same products, and ReLU keeps its x &lt; 0 ? 0 : x. Shapes
/// the implicit-GEMM kernel does not take, and float64, run the convolution's kernels and then ReLU.
/// </summary>
internal sealed class FusedConv2dOp : OpDef<FusedConv2dOp.Attributes>
{
    /// <summary>The convolution's attributes, whether ReLU follows, and the packed weight (compared by identity; null: packed per call).</summary>
    internal sealed record Attributes(Conv2dAttributes Conv, bool Relu, PackedConvWeights? Packed) : OpAttributes;

    internal static readonly FusedConv2dOp Instance = new();

    [ModuleInitializer]
    internal static void Register() => OpRegistry.Add(Instance);

    public override string Name => "FusedConv2d";
    public override bool IsPortable => false;
    public override int Arity => Variadic;
    public override bool BackwardReadsOutput => true;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, Attributes at)
    {
        TensorSpec spec;
        try
        {
            spec = Conv2dOp.Instance.Infer(inputs, at.Conv);
        }
        catch (KilnShapeException e)
        {
            // The convolution's own rules and message, under the name this node shows in the graph.
            throw new KilnShapeException($"{Name}: {e.Message}", e);
        }
        var w = inputs[1].Shape;
        if (at.Packed is { } p && (p.OutChannels != w[0] || p.GroupChannels != w[1] || p.KernelHeight != w[2] || p.KernelWidth != w[3] || p.Groups != at.Conv.Groups))
            throw Error($"packed weight is {p}, expected a {w} weight in {at.Conv.Groups} groups", inputs);
        return spec;
    }

    /// <summary>The convolution's geometry for these inputs and output.</summary>
    private static ConvGeometry Geometry(ReadOnlySpan<Tensor> inputs, Conv2dAttributes conv, Tensor output)
    {
        var (x, w, y) = (inputs[0].ShapeArray, inputs[1].ShapeArray, output.ShapeArray);
        return conv.Geometry(x[0], x[1], x[2], x[3], w[0], w[2], w[3], y[2], y[3]);
    }

    /// <summary>Packs <paramref name="weight"/> (float32 [O, C/groups, kH, kW]) for a convolution with <paramref name="conv"/>'s groups.</summary>
    internal static unsafe PackedConvWeights Pack(Tensor weight, Conv2dAttributes conv, bool winograd = false)
    {
        var w = weight.ShapeArray;
        var g = new ConvGeometry(1, w[1] * conv.Groups, w[2], w[3], w[0], conv.Groups, w[2], w[3], 1, 1, 0, 0, 1, 1, 1, 1);
        using var dense = new ContiguousInput(weight);
        return winograd ? PackedConvWeights.TransformForWinograd(g, dense.Pointer<float>()) : PackedConvWeights.Pack(g, dense.Pointer<float>());
    }

    public override unsafe void Forward(ReadOnlySpan<Tensor> inputs, Attributes at, Tensor output)
    {
        if (output.DType != DType.Float32)
        {
            Conv2dOp.Instance.Forward(inputs, at.Conv, output);
            if (at.Relu) ReluOp.Instance.Forward([output], NoAttributes.Instance, output);
            return;
        }
        var g = Geometry(inputs, at.Conv, output);
        using var input = new ContiguousInput(inputs[0]);
        using var weight = new ContiguousInput(inputs[1]);
        bool biased = inputs.Length == 3;
        using var bias = biased ? new ContiguousInput(inputs[2]) : default;
        bool epilogue = ConvKernel.ForwardFused(g, input.Pointer<float>(), weight.Pointer<float>(), at.Packed,
            biased ? bias.Pointer<float>() : null, output.Pointer<float>(), WorkerPool.Shared, at.Relu);
        if (at.Relu && !epilogue) ReluOp.Instance.Forward([output], NoAttributes.Instance, output);
    }

    public override Tensor?[] Backward(BackwardContext c, Attributes at)
    {
        var (x, w) = (c.Input(0), c.Input(1));
        var grad = at.Relu ? ReluBackwardOp.Apply(c.Grad, c.Output) : c.Grad;
        var grads = new Tensor?[c.Inputs.Length];
        if (c.NeedsGrad(0)) grads[0] = Conv2dInputGradOp.Apply(grad, w, at.Conv, x.ShapeArray[2], x.ShapeArray[3]);
        if (c.NeedsGrad(1)) grads[1] = Conv2dWeightGradOp.Apply(x, grad, at.Conv, w.ShapeArray[2], w.ShapeArray[3]);
        if (grads.Length == 3 && c.NeedsGrad(2)) grads[2] = grad.Sum([0, 2, 3]);
        return grads;
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, Attributes at)
    {
        var y = Conv2dOp.Instance.Reference(inputs, at.Conv);
        if (!at.Relu) return y;
        var values = y.ToArray<double>();
        for (int i = 0; i < values.Length; i++) values[i] = values[i] < 0 ? 0 : values[i];
        return Tensor.From<double>(values, y.ShapeArray.ToArray());
    }

    public override IEnumerable<OpSample> Samples()
    {
        // Shapes the implicit-GEMM kernel takes (patch >= 64, >= 8 filters: 17 filters leave a partial panel), and one it does not.
        var same = Conv2dAttributes.Create(1, 1, 2, 2, 1, 1, 1);
        var strided = Conv2dAttributes.Create(2, 1, 1, 2, 1, 1, 1);
        var grouped = Conv2dAttributes.Create(1, 1, 1, 1, 1, 1, 2);
        return
        [
            Sample("5x5 same, bias, ReLU, packed", 441, [1, 3, 7, 6], [17, 3, 5, 5], true, same, relu: true, packed: true) with { CheckGradient = false },
            Sample("5x5 same, no bias, packed", 445, [2, 3, 6, 7], [9, 3, 5, 5], false, same, relu: false, packed: true),
            Sample("stride (2, 1), bias, ReLU, packed per call", 449, [1, 4, 9, 8], [16, 4, 4, 4], true, strided, relu: true, packed: false) with { CheckGradient = false },
            Sample("groups 2, ReLU, packed", 453, [1, 16, 5, 5], [10, 8, 3, 3], false, grouped, relu: true, packed: true) with { CheckGradient = false },
            Sample("short patch (im2col path), ReLU", 457, [1, 1, 6, 6], [8, 1, 3, 3], true, same, relu: true, packed: false) with { CheckGradient = false },
        ];
    }

    private static OpSample Sample(string description, int seed, int[] input, int[] weight, bool biased, Conv2dAttributes conv, bool relu, bool packed)
    {
        PackedConvWeights? panels = null;
        if (packed && ImplicitGemmConvKernel.IsAccelerated) // panels are packed with AVX2, for the kernel that reads them
        {
            using var w64 = OpSample.Uniform(seed + 1, -1, 1, weight);
            using var w32 = w64.To(DType.Float32);
            panels = Pack(w32, conv);
        }
        return new OpSample(description, () => biased
            ? [OpSample.Uniform(seed, -1, 1, input), OpSample.Uniform(seed + 1, -1, 1, weight), OpSample.Uniform(seed + 2, -1, 1, weight[0])]
            : [OpSample.Uniform(seed, -1, 1, input), OpSample.Uniform(seed + 1, -1, 1, weight)], new Attributes(conv, relu, panels));
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples()
    {
        var plain = Conv2dAttributes.Create(1, 1, 0, 0, 1, 1, 1);
        static TensorSpec F32(params int[] shape) => new(new Shape(shape), DType.Float32);
        return
        [
            new("channels differ", [F32(1, 3, 8, 8), F32(16, 1, 5, 5)], new Attributes(plain, true, null)),
            new("bias of the wrong length", [F32(1, 2, 4, 4), F32(3, 2, 3, 3), F32(4)], new Attributes(plain, false, null)),
        ];
    }
}
