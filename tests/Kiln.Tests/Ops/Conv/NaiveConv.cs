namespace Kiln.Tests.Ops.Conv;

/// <summary>Textbook convolution loops the tests compare against, written without any code under test.</summary>
internal static class NaiveConv
{
    internal static double[] Random(int seed, int count)
    {
        var rng = new Random(seed);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = rng.NextDouble() * 2 - 1;
        return v;
    }

    /// <summary>y[n, o, oy, ox] = Σ_c,ky,kx x[n, g·Cg + c, oy·s − pad + ky·d, ...] · w[o, c, ky, kx], zero outside the input.</summary>
    internal static double[] Conv2d(double[] x, int[] xs, double[] w, int[] ws, int sh, int sw, int padTop, int padLeft, int padBottom, int padRight,
        int dh, int dw, int groups, out int[] shape)
    {
        int n = xs[0], c = xs[1], h = xs[2], wd = xs[3], o = ws[0], cg = ws[1], kh = ws[2], kw = ws[3];
        int oh = (h + padTop + padBottom - dh * (kh - 1) - 1) / sh + 1;
        int ow = (wd + padLeft + padRight - dw * (kw - 1) - 1) / sw + 1;
        shape = [n, o, oh, ow];
        int og = o / groups;
        var y = new double[n * o * oh * ow];
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < o; oc++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double s = 0;
            for (int ic = 0; ic < cg; ic++)
            for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
            {
                int iy = oy * sh - padTop + ky * dh, ix = ox * sw - padLeft + kx * dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                int channel = oc / og * cg + ic;
                s += x[((b * c + channel) * h + iy) * wd + ix] * w[((oc * cg + ic) * kh + ky) * kw + kx];
            }
            y[((b * o + oc) * oh + oy) * ow + ox] = s;
        }
        return y;
    }

    internal static double[] Values(Tensor t) => t.DType == DType.Float32 ? Array.ConvertAll(t.ToArray<float>(), v => (double)v) : t.ToArray<double>();

    internal static Tensor Make(double[] values, DType dtype, params int[] shape)
    {
        var t = Tensor.From<double>(values, shape);
        return dtype == DType.Float64 ? t : t.To(dtype);
    }
}
