namespace Kiln.Autograd;

/// <summary>
/// Compares autograd's gradients with central finite differences, in float64 (PyTorch's
/// <c>gradcheck</c>). The function's output is reduced with fixed random weights so every output
/// element is checked with one backward pass.
/// </summary>
public static class GradCheck
{
    /// <summary>
    /// Checks the gradients of <paramref name="function"/> at <paramref name="inputs"/> (float64 tensors;
    /// those with RequiresGrad are checked). Throws <see cref="KilnAutogradException"/> naming the first
    /// element whose analytic and numeric gradients differ by more than atol + rtol * |numeric|.
    /// </summary>
    public static void Check(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        foreach (var x in inputs)
            if (x.RequiresGrad && x.DType != DType.Float64)
                throw new ArgumentException($"GradCheck needs float64 inputs, got {x.DType.Name()}");

        Tensor output;
        using (Engine.NoGrad()) output = function(inputs);
        var weights = new double[output.NumElements];
        var rng = new Random(1234);
        for (int i = 0; i < weights.Length; i++) weights[i] = rng.NextDouble() * 2 - 1;
        var w = Tensor.From<double>(weights, output.ShapeArray);

        double Loss()
        {
            using (Engine.NoGrad())
            {
                var y = function(inputs);
                if (y.DType != DType.Float64) throw new ArgumentException($"GradCheck needs a float64 output, got {y.DType.Name()}");
                return (y * w).Sum().Item();
            }
        }

        var checkedInputs = new List<Tensor>();
        foreach (var x in inputs) if (x.RequiresGrad) checkedInputs.Add(x);
        if (checkedInputs.Count == 0) throw new ArgumentException("GradCheck: no input requires grad");

        var loss = (function(inputs) * w).Sum();
        var analytic = Engine.Grad([loss], checkedInputs.ToArray(), allowUnused: true);

        for (int k = 0; k < checkedInputs.Count; k++)
        {
            var x = checkedInputs[k];
            if (!x.IsContiguous) throw new ArgumentException("GradCheck perturbs inputs in place; pass contiguous tensors");
            var a = analytic[k]?.Contiguous().ToArray<double>() ?? new double[x.NumElements];
            var data = x.Span<double>();
            for (int i = 0; i < x.NumElements; i++)
            {
                double original = data[i];
                data[i] = original + eps;
                double plus = Loss();
                data[i] = original - eps;
                double minus = Loss();
                data[i] = original;
                double numeric = (plus - minus) / (2 * eps);
                if (!(Math.Abs(a[i] - numeric) <= atol + rtol * Math.Abs(numeric)))
                    throw new KilnAutogradException(
                        $"GradCheck: gradient of input {k} ({x.Shape}) at flat index {i}: autograd {a[i]:G6}, finite differences {numeric:G6}");
            }
        }
    }
}
