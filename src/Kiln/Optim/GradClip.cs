using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
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
        using var noGrad = Engine.NoGrad();
        return ClipNormInPlace(CollectionsMarshal.AsSpan(grads)!, maxNorm, normType, errorIfNonfinite);
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
        ClampInPlace(CollectionsMarshal.AsSpan(grads)!, clipValue);
    }

    /// <summary>
    /// <see cref="ClipGradNorm"/> over gradient tensors (nulls skipped), allocating nothing when they are
    /// contiguous: a compiled training step clips its gradient buffers with it at every step.
    /// </summary>
    internal static double ClipNormInPlace(ReadOnlySpan<Tensor?> grads, double maxNorm, double normType, bool errorIfNonfinite)
    {
        int count = 0;
        bool single = true;
        foreach (var g in grads)
        {
            if (g is null) continue;
            count++;
            single &= g.DType == DType.Float32;
        }
        if (count == 0) return 0;
        var norms = ArrayPool<double>.Shared.Rent(count);
        double total;
        try
        {
            int k = 0;
            foreach (var g in grads)
            {
                if (g is null) continue;
                double norm = Norm(g, normType);
                norms[k++] = g.DType == DType.Float32 ? (float)norm : norm;
            }
            total = NormOf(norms, count, normType);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(norms);
        }
        if (single) total = (float)total;
        if (errorIfNonfinite && !double.IsFinite(total))
            throw new KilnException($"ClipGradNorm: the total norm of order {normType.ToString(CultureInfo.InvariantCulture)} of the gradients is " +
                $"{total.ToString(CultureInfo.InvariantCulture)}, so it cannot be clipped; to scale the gradients by the non-finite norm anyway, pass errorIfNonfinite: false");
        // max_norm / (total_norm + 1e-6) in the total norm's precision, which PyTorch evaluates as
        // (total_norm + 1e-6).reciprocal() * max_norm; then clamped to at most 1.
        double coefficient = single ? 1f / ((float)total + 1e-6f) * (float)maxNorm : 1 / (total + 1e-6) * maxNorm;
        coefficient = Math.Min(coefficient, 1.0);
        if (coefficient != 1.0)
            foreach (var g in grads)
            {
                if (g is null) continue;
                if (!g.IsContiguous) g.MulInPlace(coefficient);
                else if (g.DType == DType.Float32) TensorPrimitives.Multiply(g.Span<float>(), (float)coefficient, g.Span<float>());
                else TensorPrimitives.Multiply(g.Span<double>(), coefficient, g.Span<double>());
            }
        return total;
    }

    /// <summary><see cref="ClipGradValue"/> over gradient tensors (nulls skipped), allocating nothing when they are contiguous.</summary>
    internal static void ClampInPlace(ReadOnlySpan<Tensor?> grads, double clipValue)
    {
        foreach (var g in grads)
        {
            if (g is null) continue;
            if (!g.IsContiguous) g.ClampInPlace(-clipValue, clipValue);
            else if (g.DType == DType.Float32) ClampSpan(g.Span<float>(), (float)-clipValue, (float)clipValue);
            else ClampSpan(g.Span<double>(), -clipValue, clipValue);
        }
    }

    /// <summary>min(max(x, low), high) in place, a NaN staying NaN (as torch.clamp_).</summary>
    private static void ClampSpan<T>(Span<T> x, T low, T high) where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Max(x, low, x);
        TensorPrimitives.Min(x, high, x);
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

    /// <summary>torch.norm(torch.stack(norms[..count]), p).</summary>
    private static unsafe double NormOf(double[] norms, int count, double p)
    {
        fixed (double* n = norms) return GradNormKernel.Norm(n, count, p);
    }
}
