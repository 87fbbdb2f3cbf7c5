using Kiln.Kernels.Cpu;

namespace Kiln.Ops;

/// <summary>
/// Base for one-input elementwise ops: the output has the input's shape and dtype. A subclass gives
/// its kernel call, its float64 scalar meaning (the conformance reference), its backward and the
/// input range its samples draw from.
/// </summary>
internal abstract class UnaryElementwiseOp : OpDef<NoAttributes>, IPerElementOp
{
    public override int Arity => 1;
    public override FusionKind Fusion => FusionKind.Elementwise;

    /// <summary>Whether integer inputs are accepted (Neg, Abs); float-only otherwise.</summary>
    protected virtual bool AcceptsIntegers => false;

    /// <summary>The op on one float64 value: the reference the kernels are checked against.</summary>
    internal abstract double Scalar(double x);

    /// <summary>Range the samples draw from (avoid points where the op or its derivative is undefined).</summary>
    protected virtual (double Low, double High) SampleRange => (-3, 3);

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        var x = inputs[0];
        if (!x.DType.IsFloatingPoint() && !(AcceptsIntegers && x.DType is DType.Int32 or DType.Int64))
            throw Error($"expects a floating-point{(AcceptsIntegers ? " or int32/int64" : "")} tensor, got {x.DType.Name()}", inputs);
        return x;
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
    {
        var x = inputs[0].ToArray<double>();
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = Scalar(x[i]);
        return Tensor.From<double>(y, inputs[0].ShapeArray);
    }

    public override IEnumerable<OpSample> Samples()
    {
        var (lo, hi) = SampleRange;
        return
        [
            new("matrix", () => [OpSample.Uniform(11, lo, hi, 7, 13)], NoAttributes.Instance),
            new("scalar", () => [OpSample.Uniform(12, lo, hi)], NoAttributes.Instance),
            new("empty", () => [OpSample.Uniform(13, lo, hi, 0, 4)], NoAttributes.Instance),
            new("long row", () => [OpSample.Uniform(14, lo, hi, 2, 3, 257)], NoAttributes.Instance) { CheckGradient = false },
        ];
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [new("bool input", [new TensorSpec(new Shape(2, 3), DType.Bool)], NoAttributes.Instance)];
}

/// <summary>
/// Base for two-input elementwise ops with NumPy broadcasting. Both inputs must have one dtype
/// (the public entry points promote first); the output has the broadcast shape.
/// </summary>
internal abstract class BinaryElementwiseOp : OpDef<NoAttributes>, IPerElementOp
{
    public override int Arity => 2;
    public override FusionKind Fusion => FusionKind.Elementwise;

    protected virtual bool AcceptsIntegers => true;

    /// <summary>The op on two float64 values: the reference the kernels are checked against.</summary>
    internal abstract double Scalar(double a, double b);

    protected virtual (double Low, double High) SampleRange => (-3, 3);

    /// <summary>Range the second input's samples draw from (a divisor away from 0, an exponent); the first's by default.</summary>
    protected virtual (double Low, double High) SecondSampleRange => SampleRange;

    /// <summary>Output dtype for the (equal) input dtype: the same, or bool for comparisons.</summary>
    protected virtual DType OutputDType(DType input) => input;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        var (x, y) = (inputs[0], inputs[1]);
        if (x.DType != y.DType)
            throw Error($"dtypes differ: {x.DType.Name()} and {y.DType.Name()}", inputs);
        if (!x.DType.IsFloatingPoint() && !(AcceptsIntegers && x.DType is DType.Int32 or DType.Int64))
            throw Error($"expects floating-point{(AcceptsIntegers ? " or int32/int64" : "")} tensors, got {x.DType.Name()}", inputs);
        if (!Kiln.Shape.TryBroadcast(x.Shape, y.Shape, out var shape))
            throw Error($"shapes {x.Shape} and {y.Shape} do not broadcast", inputs);
        return new TensorSpec(shape, OutputDType(x.DType));
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
    {
        var (x, y) = (inputs[0], inputs[1]);
        var shape = Kiln.Shape.Broadcast(x.ShapeArray, y.ShapeArray)!;
        var xs = BroadcastStrides(x.ShapeArray, shape);
        var ys = BroadcastStrides(y.ShapeArray, shape);
        var xv = x.ToArray<double>();
        var yv = y.ToArray<double>();
        var result = new double[Kiln.Shape.Wrap(shape).NumElements];
        var index = new int[shape.Length];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rem = flat, xo = 0, yo = 0;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rem % shape[d];
                rem /= shape[d];
                xo += index[d] * xs[d];
                yo += index[d] * ys[d];
            }
            result[flat] = Scalar(xv[xo], yv[yo]);
        }
        return Tensor.From<double>(result, shape);
    }

    /// <summary>Contiguous strides of <paramref name="shape"/> right-aligned to <paramref name="target"/>, 0 where broadcast.</summary>
    internal static int[] BroadcastStrides(int[] shape, int[] target)
    {
        var own = Kiln.Shape.ContiguousStrides(shape);
        var s = new int[target.Length];
        int lead = target.Length - shape.Length;
        for (int i = 0; i < target.Length; i++)
        {
            int j = i - lead;
            s[i] = j < 0 || shape[j] == 1 ? 0 : own[j];
        }
        return s;
    }

    public override IEnumerable<OpSample> Samples()
    {
        var (lo, hi) = SampleRange;
        var (lo2, hi2) = SecondSampleRange;
        return
        [
            new("same shape", () => [OpSample.Uniform(21, lo, hi, 5, 7), OpSample.Uniform(22, lo2, hi2, 5, 7)], NoAttributes.Instance),
            new("row broadcast", () => [OpSample.Uniform(23, lo, hi, 4, 6), OpSample.Uniform(24, lo2, hi2, 6)], NoAttributes.Instance),
            new("column broadcast", () => [OpSample.Uniform(25, lo, hi, 4, 1), OpSample.Uniform(26, lo2, hi2, 3, 1, 5)], NoAttributes.Instance),
            new("scalar", () => [OpSample.Uniform(27, lo, hi, 3, 4), OpSample.Uniform(28, lo2, hi2)], NoAttributes.Instance),
            new("long rows", () => [OpSample.Uniform(29, lo, hi, 3, 259), OpSample.Uniform(30, lo2, hi2, 3, 259)], NoAttributes.Instance) { CheckGradient = false },
        ];
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        new("shapes that do not broadcast", [new TensorSpec(new Shape(2, 3), DType.Float32), new TensorSpec(new Shape(4), DType.Float32)], NoAttributes.Instance),
        new("mixed dtypes", [new TensorSpec(new Shape(2), DType.Float32), new TensorSpec(new Shape(2), DType.Float64)], NoAttributes.Instance),
    ];
}

/// <summary>
/// Base for one-input elementwise ops with attributes (LeakyRelu's slope, Elu's alpha, Clamp's
/// bounds, Gelu's approximation): as <see cref="UnaryElementwiseOp"/>, with the samples run once per
/// attribute value the op lists.
/// </summary>
internal abstract class UnaryElementwiseOp<TAttr> : OpDef<TAttr>, IPerElementOp where TAttr : OpAttributes
{
    public override int Arity => 1;
    public override FusionKind Fusion => FusionKind.Elementwise;

    /// <summary>Whether int32/int64 inputs are accepted; float-only otherwise.</summary>
    protected virtual bool AcceptsIntegers => false;

    /// <summary>The op on one float64 value: the reference the kernels are checked against.</summary>
    internal abstract double Scalar(double x, TAttr attributes);

    /// <summary>Range the samples draw from (avoid points where the op or its derivative is undefined).</summary>
    protected virtual (double Low, double High) SampleRange => (-3, 3);

    /// <summary>The attribute values the conformance samples run with (the first also serves the invalid samples).</summary>
    protected abstract IReadOnlyList<TAttr> SampleAttributes { get; }

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, TAttr a)
    {
        var x = inputs[0];
        if (!x.DType.IsFloatingPoint() && !(AcceptsIntegers && x.DType is DType.Int32 or DType.Int64))
            throw Error($"expects a floating-point{(AcceptsIntegers ? " or int32/int64" : "")} tensor, got {x.DType.Name()}", inputs);
        return x;
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, TAttr a)
    {
        var x = inputs[0].ToArray<double>();
        var y = new double[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = Scalar(x[i], a);
        return Tensor.From<double>(y, inputs[0].ShapeArray);
    }

    public override IEnumerable<OpSample> Samples()
    {
        var (lo, hi) = SampleRange;
        var samples = new List<OpSample>();
        int seed = 11;
        foreach (var a in SampleAttributes)
        {
            int s = seed;
            samples.Add(new($"matrix {a}", () => [OpSample.Uniform(s, lo, hi, 7, 13)], a));
            samples.Add(new($"scalar {a}", () => [OpSample.Uniform(s + 1, lo, hi)], a));
            samples.Add(new($"empty {a}", () => [OpSample.Uniform(s + 2, lo, hi, 0, 4)], a));
            samples.Add(new($"long row {a}", () => [OpSample.Uniform(s + 3, lo, hi, 2, 3, 257)], a) { CheckGradient = false });
            seed += 4;
        }
        return samples;
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
        [new("bool input", [new TensorSpec(new Shape(2, 3), DType.Bool)], SampleAttributes[0])];
}

/// <summary>
/// Base for the comparisons (Eq, Lt, ...): two inputs of one dtype (any dtype; the public entry points
/// promote first), broadcast, and a bool result. Not differentiable.
/// </summary>
internal abstract class ComparisonOp<TPredicate> : BinaryElementwiseOp where TPredicate : IComparisonPredicate
{
    public override bool IsDifferentiable => false;
    public override bool BackwardReadsInputs => false;

    protected override DType OutputDType(DType input) => DType.Bool;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        var (x, y) = (inputs[0], inputs[1]);
        if (x.DType != y.DType)
            throw Error($"dtypes differ: {x.DType.Name()} and {y.DType.Name()}", inputs);
        if (!Kiln.Shape.TryBroadcast(x.Shape, y.Shape, out var shape))
            throw Error($"shapes {x.Shape} and {y.Shape} do not broadcast", inputs);
        return new TensorSpec(shape, DType.Bool);
    }

    public override void Forward(ReadOnlySpan<Tensor> inputs, NoAttributes a, Tensor output)
        => ElementwiseDispatch.Compare<TPredicate>(inputs[0], inputs[1], output);

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
        => base.Reference([inputs[0].To(DType.Float64), inputs[1].To(DType.Float64)], a);

    // Small integers, so equal pairs occur and float32 holds the values exactly.
    public override IEnumerable<OpSample> Samples() =>
    [
        new("same shape", () => [ElementwiseSamples.SmallIntegers(21, 5, 7), ElementwiseSamples.SmallIntegers(22, 5, 7)], NoAttributes.Instance),
        new("row broadcast", () => [ElementwiseSamples.SmallIntegers(23, 4, 6), ElementwiseSamples.SmallIntegers(24, 6)], NoAttributes.Instance),
        new("scalar", () => [ElementwiseSamples.SmallIntegers(27, 3, 4), ElementwiseSamples.SmallIntegers(28)], NoAttributes.Instance),
        new("scalar first", () => [ElementwiseSamples.SmallIntegers(29), ElementwiseSamples.SmallIntegers(30, 3, 4)], NoAttributes.Instance),
        new("long rows", () => [ElementwiseSamples.SmallIntegers(31, 3, 259), ElementwiseSamples.SmallIntegers(32, 3, 259)], NoAttributes.Instance),
        new("with NaN", () => [ElementwiseSamples.WithNaN(33, 37), ElementwiseSamples.WithNaN(34, 37)], NoAttributes.Instance),
        new("int64", () => [OpSample.Indices(35, 4, 5, 37), OpSample.Indices(36, 4, 37)], NoAttributes.Instance),
        new("int32", () => [OpSample.Indices(37, 4, 70).To(DType.Int32), OpSample.Indices(38, 4, 70).To(DType.Int32)], NoAttributes.Instance),
        new("bool", () => [ElementwiseSamples.Mask(39, 6, 45), ElementwiseSamples.Mask(40, 45)], NoAttributes.Instance),
    ];
}

/// <summary>Base for LogicalAnd / LogicalOr / LogicalXor: two bool inputs, broadcast, a bool result. Not differentiable.</summary>
internal abstract class LogicalBinaryOp : BinaryElementwiseOp
{
    public override bool IsDifferentiable => false;
    public override bool BackwardReadsInputs => false;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        var (x, y) = (inputs[0], inputs[1]);
        if (x.DType != DType.Bool || y.DType != DType.Bool)
            throw Error($"expects bool tensors, got {x.DType.Name()} and {y.DType.Name()}", inputs);
        if (!Kiln.Shape.TryBroadcast(x.Shape, y.Shape, out var shape))
            throw Error($"shapes {x.Shape} and {y.Shape} do not broadcast", inputs);
        return new TensorSpec(shape, DType.Bool);
    }

    public override Tensor Reference(ReadOnlySpan<Tensor> inputs, NoAttributes a)
        => base.Reference([inputs[0].To(DType.Float64), inputs[1].To(DType.Float64)], a);

    public override IEnumerable<OpSample> Samples() =>
    [
        new("same shape", () => [ElementwiseSamples.Mask(51, 5, 7), ElementwiseSamples.Mask(52, 5, 7)], NoAttributes.Instance),
        new("row broadcast", () => [ElementwiseSamples.Mask(53, 4, 6), ElementwiseSamples.Mask(54, 6)], NoAttributes.Instance),
        new("scalar", () => [ElementwiseSamples.Mask(55, 3, 4), ElementwiseSamples.Mask(56)], NoAttributes.Instance),
        new("long rows", () => [ElementwiseSamples.Mask(57, 3, 259), ElementwiseSamples.Mask(58, 3, 259)], NoAttributes.Instance),
    ];

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        new("shapes that do not broadcast", [new TensorSpec(new Shape(2, 3), DType.Bool), new TensorSpec(new Shape(4), DType.Bool)], NoAttributes.Instance),
        new("float inputs", [new TensorSpec(new Shape(2), DType.Float32), new TensorSpec(new Shape(2), DType.Float32)], NoAttributes.Instance),
    ];
}

/// <summary>Inputs for elementwise samples that <see cref="OpSample.Uniform"/> does not give.</summary>
internal static class ElementwiseSamples
{
    /// <summary>A float64 tensor of integers in [-2, 2] (so comparisons see ties).</summary>
    internal static Tensor SmallIntegers(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new double[Kiln.Shape.Wrap(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(-2, 3);
        return Tensor.From<double>(data, shape);
    }

    /// <summary>A 1-d float64 tensor of small integers with every third element NaN.</summary>
    internal static Tensor WithNaN(int seed, int length)
    {
        var rng = new Random(seed);
        var data = new double[length];
        for (int i = 0; i < length; i++) data[i] = i % 3 == 0 ? double.NaN : rng.Next(-2, 3);
        return Tensor.From<double>(data, length);
    }

    /// <summary>A bool tensor, each element true with probability one half.</summary>
    internal static Tensor Mask(int seed, params int[] shape)
    {
        var rng = new Random(seed);
        var data = new bool[Kiln.Shape.Wrap(shape).NumElements];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(2) == 1;
        return Tensor.From<bool>(data, shape);
    }
}
