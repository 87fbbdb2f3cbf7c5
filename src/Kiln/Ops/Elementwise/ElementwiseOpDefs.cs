namespace Kiln.Ops;

/// <summary>
/// Base for one-input elementwise ops: the output has the input's shape and dtype. A subclass gives
/// its kernel call, its float64 scalar meaning (the conformance reference), its backward and the
/// input range its samples draw from.
/// </summary>
internal abstract class UnaryElementwiseOp : OpDef<NoAttributes>
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
internal abstract class BinaryElementwiseOp : OpDef<NoAttributes>
{
    public override int Arity => 2;
    public override FusionKind Fusion => FusionKind.Elementwise;

    protected virtual bool AcceptsIntegers => true;

    /// <summary>The op on two float64 values: the reference the kernels are checked against.</summary>
    internal abstract double Scalar(double a, double b);

    protected virtual (double Low, double High) SampleRange => (-3, 3);

    /// <summary>Output dtype for the (equal) input dtype: the same, or bool for comparisons.</summary>
    protected virtual DType OutputDType(DType input) => input;

    public override TensorSpec Infer(ReadOnlySpan<TensorSpec> inputs, NoAttributes a)
    {
        var (x, y) = (inputs[0], inputs[1]);
        if (x.DType != y.DType)
            throw Error($"dtypes differ: {x.DType.Name()} and {y.DType.Name()}", inputs);
        if (!x.DType.IsFloatingPoint() && !(AcceptsIntegers && x.DType is DType.Int32 or DType.Int64))
            throw Error($"expects floating-point{(AcceptsIntegers ? " or int32/int64" : "")} tensors, got {x.DType.Name()}", inputs);
        var shape = Kiln.Shape.Broadcast(x.Shape.AsSpan(), y.Shape.AsSpan())
            ?? throw Error($"shapes {x.Shape} and {y.Shape} do not broadcast", inputs);
        return new TensorSpec(Kiln.Shape.Wrap(shape), OutputDType(x.DType));
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
        return
        [
            new("same shape", () => [OpSample.Uniform(21, lo, hi, 5, 7), OpSample.Uniform(22, lo, hi, 5, 7)], NoAttributes.Instance),
            new("row broadcast", () => [OpSample.Uniform(23, lo, hi, 4, 6), OpSample.Uniform(24, lo, hi, 6)], NoAttributes.Instance),
            new("column broadcast", () => [OpSample.Uniform(25, lo, hi, 4, 1), OpSample.Uniform(26, lo, hi, 3, 1, 5)], NoAttributes.Instance),
            new("scalar", () => [OpSample.Uniform(27, lo, hi, 3, 4), OpSample.Uniform(28, lo, hi)], NoAttributes.Instance),
            new("long rows", () => [OpSample.Uniform(29, lo, hi, 3, 259), OpSample.Uniform(30, lo, hi, 3, 259)], NoAttributes.Instance) { CheckGradient = false },
        ];
    }

    public override IEnumerable<OpInvalidSample> InvalidSamples() =>
    [
        new("shapes that do not broadcast", [new TensorSpec(new Shape(2, 3), DType.Float32), new TensorSpec(new Shape(4), DType.Float32)], NoAttributes.Instance),
        new("mixed dtypes", [new TensorSpec(new Shape(2), DType.Float32), new TensorSpec(new Shape(2), DType.Float64)], NoAttributes.Instance),
    ];
}
