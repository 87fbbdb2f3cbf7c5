using System.Runtime.CompilerServices;

namespace Kiln.Ops;

/// <summary>
/// Attributes shared by the reductions: the reduced dimensions (normalized, sorted; empty means all) and
/// whether they are kept as size 1. Also the shape rule and the helpers the reductions and their
/// references share.
/// </summary>
internal sealed record ReduceAttributes(IntList Axes, bool KeepDim) : OpAttributes
{
    /// <summary>The fields in a .kiln file, in this order (read back by <see cref="Read"/>).</summary>
    internal override void Write(AttributeWriter writer)
    {
        writer.Ints(Axes);
        writer.Bool(KeepDim);
    }

    internal static ReduceAttributes Read(AttributeReader reader) => new(reader.Ints("axes"), reader.Bool("keep_dim"));

    [ModuleInitializer]
    internal static void RegisterFormat() => AttributeFormat<ReduceAttributes>.Reader = Read;

    internal static ReduceAttributes All(bool keepDim) => new(IntList.Empty, keepDim);

    internal static ReduceAttributes Create(ReadOnlySpan<int> dims, int rank, bool keepDim)
    {
        // Out-of-range and repeated dimensions are kept as given: the op's Infer rejects them with an
        // error that names the op and the input's shape and dtype.
        var axes = new List<int>(dims.Length);
        foreach (var d in dims) axes.Add(d < 0 && d + rank >= 0 ? d + rank : d);
        axes.Sort();
        return new ReduceAttributes(new IntList([.. axes]), keepDim);
    }

    internal bool Reduces(int dim, int rank) => Axes.Count == 0 || Axes.AsSpan().Contains(dim) || rank == 0;

    /// <summary>These attributes with the reduced dimensions kept as size 1.</summary>
    internal ReduceAttributes Kept => KeepDim ? this : this with { KeepDim = true };

    internal Shape OutputShape(OpDef op, ReadOnlySpan<TensorSpec> inputs)
    {
        var problem = Problem(inputs[0].Shape.Rank);
        if (problem is not null) throw op.Error(problem, inputs);
        return ShapeAfter(inputs[0].Shape);
    }

    /// <summary>The check of <see cref="OutputShape"/> for a composite reduction (Mean), whose error names it.</summary>
    internal void Validate(string opName, Tensor x)
    {
        var problem = Problem(x.Rank);
        if (problem is not null) throw new KilnShapeException($"{opName}: {problem} (inputs: {TensorSpec.Of(x)})");
    }

    private string? Problem(int rank)
    {
        var axes = Axes.AsSpan();
        for (int i = 0; i < axes.Length; i++)
        {
            if ((axes[i] < 0 || axes[i] >= rank) && !(rank == 0 && axes[i] is 0 or -1))
                return $"dimension {axes[i]} is out of range for rank {rank}";
            if (i > 0 && axes[i] == axes[i - 1])
                return $"dimension {axes[i]} is reduced twice";
        }
        return null;
    }

    private Shape ShapeAfter(Shape x)
    {
        int rank = x.Rank;
        var dims = new List<int>();
        for (int i = 0; i < rank; i++)
        {
            if (!Reduces(i, rank)) dims.Add(x[i]);
            else if (KeepDim) dims.Add(1);
        }
        return Shape.Wrap([.. dims]);
    }

    /// <summary>The input's dtype when the op accepts it (floats, and int32/int64 when <paramref name="integers"/>), else an error naming the op.</summary>
    internal static DType RequireDType(OpDef op, ReadOnlySpan<TensorSpec> inputs, bool integers)
    {
        var dtype = inputs[0].DType;
        if (dtype.IsFloatingPoint() || (integers && dtype is DType.Int32 or DType.Int64)) return dtype;
        throw op.Error($"expects a floating-point{(integers ? " or int32/int64" : "")} tensor, got {dtype.Name()}", inputs);
    }

    /// <summary>How many input elements fold into each output element.</summary>
    internal long Count(Shape x)
    {
        long n = 1;
        for (int i = 0; i < x.Rank; i++)
            if (Reduces(i, x.Rank)) n *= x[i];
        return n;
    }

    /// <summary>For reductions without an identity (Max, ArgMax): an error when a reduced dimension is empty.</summary>
    internal void RequireNonEmpty(OpDef op, ReadOnlySpan<TensorSpec> inputs)
    {
        var x = inputs[0].Shape;
        for (int i = 0; i < x.Rank; i++)
            if (Reduces(i, x.Rank) && x[i] == 0)
                throw op.Error($"cannot reduce dimension {i} of size 0 (the result has no identity)", inputs);
    }

    /// <summary>A reduced tensor (this reduction's output) reshaped to the kept-dimension shape, ready to broadcast against the input.</summary>
    internal Tensor KeepDims(Tensor reduced, Shape inputShape)
    {
        if (KeepDim) return reduced;
        int rank = inputShape.Rank;
        var dims = new int[rank];
        for (int i = 0; i < rank; i++) dims[i] = Reduces(i, rank) ? 1 : inputShape[i];
        return reduced.Reshape(dims);
    }

    /// <summary>Broadcasts a reduced gradient back over the input's shape.</summary>
    internal Tensor Unreduce(Tensor grad, Shape inputShape) => KeepDims(grad, inputShape).Expand(inputShape.ToArray());

    /// <summary>The naive reference for a reduction: <paramref name="fold"/> applied to each output's values in index order.</summary>
    internal Tensor ReferenceReduce(OpDef op, Tensor x, Func<List<double>, double> fold)
    {
        var shape = OutputShape(op, [TensorSpec.Of(x)]);
        var values = x.ToArray<double>();
        var rank = x.Rank;
        var outN = (int)shape.NumElements;
        var groups = new List<double>[outN];
        for (int i = 0; i < outN; i++) groups[i] = new List<double>();
        var index = new int[rank];
        for (int flat = 0; flat < values.Length; flat++)
        {
            int rem = flat;
            for (int d = rank - 1; d >= 0; d--) { index[d] = rem % x.ShapeArray[d]; rem /= x.ShapeArray[d]; }
            int o = 0;
            for (int d = 0; d < rank; d++)
                if (!Reduces(d, rank)) o = o * x.ShapeArray[d] + index[d];
            groups[o].Add(values[flat]);
        }
        var result = new double[outN];
        for (int i = 0; i < outN; i++) result[i] = fold(groups[i]);
        return Tensor.From<double>(result, shape.ToArray());
    }

    internal static IEnumerable<OpSample> StandardSamples(double low, double high) =>
    [
        new("all", () => [OpSample.Uniform(31, low, high, 4, 5)], All(false)),
        new("dim 1", () => [OpSample.Uniform(32, low, high, 4, 5)], new ReduceAttributes(new IntList(1), false)),
        new("dim 0 keep", () => [OpSample.Uniform(33, low, high, 4, 5)], new ReduceAttributes(new IntList(0), true)),
        new("dims 0,2 of 3-d", () => [OpSample.Uniform(34, low, high, 3, 4, 5)], new ReduceAttributes(new IntList(0, 2), false)),
        new("dim 1 of 3-d keep", () => [OpSample.Uniform(36, low, high, 2, 3, 4)], new ReduceAttributes(new IntList(1), true)),
        new("scalar", () => [OpSample.Uniform(37, low, high)], All(false)),
        new("long rows", () => [OpSample.Uniform(35, low, high, 3, 259)], new ReduceAttributes(new IntList(1), false)) { CheckGradient = false },
        new("long columns", () => [OpSample.Uniform(38, low, high, 259, 3)], new ReduceAttributes(new IntList(0), false)) { CheckGradient = false },
    ];

    internal static IEnumerable<OpInvalidSample> StandardInvalidSamples() =>
    [
        new("dimension out of range", [new TensorSpec(new Shape(2, 3), DType.Float32)], new ReduceAttributes(new IntList(2), false)),
        new("negative dimension out of range", [new TensorSpec(new Shape(2, 3), DType.Float32)], new ReduceAttributes(new IntList(-3), false)),
        new("dimension repeated", [new TensorSpec(new Shape(2, 3), DType.Float32)], new ReduceAttributes(new IntList(1, 1), false)),
    ];
}
