using System.Globalization;
using Kiln.Kernels.Cpu;

namespace Kiln.Optim;

/// <summary>Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales the gradients of <paramref name="parameters"/> in place so that their total norm (the norm
    /// of all gradients together, as if concatenated) is at most <paramref name="maxNorm"/>: each gradient
    /// is multiplied by min(1, maxNorm / (total + 1e-6)). <paramref name="normType"/> is the p of the p-norm,
    /// <see cref="double.PositiveInfinity"/> for the largest magnitude. Parameters without a gradient are
    /// skipped. Returns the total norm before clipping (0 when no parameter has a gradient), computed in
    /// float32 unless a gradient is float64, as PyTorch does. With <paramref name="errorIfNonfinite"/> a
    /// NaN or infinite total norm throws instead of scaling the gradients by it.
    /// </summary>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (double.IsNaN(normType)) throw new ArgumentOutOfRangeException(nameof(normType), normType, "ClipGradNorm: the norm type must be a number or infinity");
        if (double.IsNaN(maxNorm)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipGradNorm: maxNorm must be a number");
        var grads = Gradients(parameters);
        if (grads.Count == 0) return 0;
        using var noGrad = Engine.NoGrad();
        bool single = grads.All(g => g.DType == DType.Float32);
        var norms = new double[grads.Count];
        for (int i = 0; i < grads.Count; i++)
        {
            double norm = Norm(grads[i], normType);
            norms[i] = grads[i].DType == DType.Float32 ? (float)norm : norm;
        }
        double total = NormOf(norms, normType);
        if (single) total = (float)total;
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new KilnException($"ClipGradNorm: the total norm of order {normType.ToString(CultureInfo.InvariantCulture)} of the gradients is " +
                $"{total.ToString(CultureInfo.InvariantCulture)}, so it cannot be clipped; to scale the gradients by the non-finite norm anyway, pass errorIfNonfinite: false");
        // max_norm / (total_norm + 1e-6) in the total norm's precision, which PyTorch evaluates as
        // (total_norm + 1e-6).reciprocal() * max_norm; then clamped to at most 1.
        double coefficient = single ? 1f / ((float)total + 1e-6f) * (float)maxNorm : 1 / (total + 1e-6) * maxNorm;
        coefficient = Math.Min(coefficient, 1.0);
        if (coefficient != 1.0)
            foreach (var g in grads) g.MulInPlace(coefficient);
        return total;
    }

    /// <summary>
    /// Clamps every gradient of <paramref name="parameters"/> in place to [−clipValue, clipValue];
    /// parameters without a gradient are skipped.
    /// </summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(clipValue >= 0))
            throw new ArgumentOutOfRangeException(nameof(clipValue), clipValue, "ClipGradValue: the clip value must be >= 0");
        var grads = Gradients(parameters);
        using var noGrad = Engine.NoGrad();
        foreach (var g in grads) g.ClampInPlace(-clipValue, clipValue);
    }

    private static List<Tensor> Gradients(IEnumerable<Tensor> parameters)
    {
        var grads = new List<Tensor>();
        int index = 0;
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException($"parameter {index} is null", nameof(parameters));
            if (p.Grad is { } g)
            {
                if (g.IsDisposed) throw new KilnException($"the gradient of parameter {index} ({p.Shape}) was disposed");
                if (!g.DType.IsFloatingPoint()) throw new KilnException($"the gradient of parameter {index} is {g.DType.Name()}; expected float32 or float64");
                grads.Add(g);
            }
            index++;
        }
        return grads;
    }

    /// <summary>torch.norm(g, p) of one gradient, in float64.</summary>
    private static unsafe double Norm(Tensor g, double p)
    {
        var c = g.IsContiguous ? g : g.Clone();
        try
        {
            return c.DType == DType.Float32
                ? GradNormKernel.Norm(c.Pointer<float>(), c.NumElements, p)
                : GradNormKernel.Norm(c.Pointer<double>(), c.NumElements, p);
        }
        finally
        {
            if (!ReferenceEquals(c, g)) c.Dispose();
        }
    }

    /// <summary>torch.norm(torch.stack(norms), p).</summary>
    private static unsafe double NormOf(double[] norms, double p)
    {
        fixed (double* n = norms) return GradNormKernel.Norm(n, norms.Length, p);
    }
}
