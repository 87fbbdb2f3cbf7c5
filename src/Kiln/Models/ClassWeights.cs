namespace Kiln.Models;

/// <summary>
/// Fit's <c>classWeight</c>: turns a batch's targets into per-sample weights, as Keras does. The class of
/// a sample is its integer target ([N] or [N, 1]), its rounded float target ([N] or [N, 1], as binary
/// labels), or the arg max of a one-hot or probability target [N, C]; a class the dictionary does not
/// name weighs 1.
/// </summary>
internal sealed class ClassWeights
{
    private readonly double[] _byClass;

    private ClassWeights(double[] byClass) => _byClass = byClass;

    /// <summary>Checks <paramref name="weights"/> (classes from 0, finite non-negative weights) and keeps them as a table.</summary>
    internal static ClassWeights Create(IReadOnlyDictionary<int, double> weights)
    {
        int top = -1;
        foreach (var (cls, weight) in weights)
        {
            if (cls < 0) throw new ArgumentException($"Fit: classWeight names class {cls}; classes are numbered from 0", "classWeight");
            if (!double.IsFinite(weight) || weight < 0)
                throw new ArgumentException($"Fit: classWeight gives class {cls} the weight {weight}; weights must be finite and non-negative", "classWeight");
            top = Math.Max(top, cls);
        }
        var table = new double[top + 1];
        Array.Fill(table, 1.0);
        foreach (var (cls, weight) in weights) table[cls] = weight;
        return new ClassWeights(table);
    }

    /// <summary>The weight of each sample of <paramref name="target"/> as a [N] tensor of <paramref name="dtype"/>.</summary>
    internal Tensor For(Tensor target, DType dtype)
    {
        var classes = Classes(target);
        var weights = new double[classes.Length];
        for (int i = 0; i < classes.Length; i++)
        {
            long c = classes[i];
            weights[i] = c >= 0 && c < _byClass.Length ? _byClass[c] : 1.0;
        }
        using var w = Tensor.From<double>(weights);
        return dtype == DType.Float64 ? w.Clone() : w.To(dtype);
    }

    private static long[] Classes(Tensor target)
    {
        bool column = target.Rank == 1 || (target.Rank == 2 && target.Size(1) == 1);
        if (target.Rank == 2 && !column) return target.ArgMax(1).ToArray<long>();
        if (!column)
            throw new KilnShapeException($"Fit: classWeight needs one class per sample: targets [N], [N, 1] or one-hot [N, C]; got {target.Shape}");
        if (!target.DType.IsFloatingPoint()) return target.To(DType.Int64).Reshape(-1).ToArray<long>();
        var values = target.To(DType.Float64).Reshape(-1).ToArray<double>();
        var classes = new long[values.Length];
        for (int i = 0; i < values.Length; i++) classes[i] = (long)Math.Round(values[i], MidpointRounding.ToEven);
        return classes;
    }
}
