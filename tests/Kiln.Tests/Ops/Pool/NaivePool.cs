namespace Kiln.Tests.Ops.Pool;

/// <summary>Pooling loops the tests compare against, following PyTorch's definitions directly.</summary>
internal static class NaivePool
{
    internal static double[] Random(int seed, int count)
    {
        var rng = new Random(seed);
        var v = new double[count];
        for (int i = 0; i < count; i++) v[i] = rng.NextDouble() * 4 - 2;
        return v;
    }

    internal static int OutputSize(int size, int k, int s, int p, int d, bool ceil)
    {
        double exact = (double)(size + 2 * p - d * (k - 1) - 1) / s;
        int o = (ceil ? (int)Math.Ceiling(exact) : (int)Math.Floor(exact)) + 1;
        if (ceil && (o - 1) * s >= size + p) o--;
        return o;
    }

    internal static double[] Max(double[] x, int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, bool ceil, out int oh, out int ow)
    {
        oh = OutputSize(h, kh, sh, ph, dh, ceil);
        ow = OutputSize(w, kw, sw, pw, dw, ceil);
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double m = double.NegativeInfinity;
            for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
            {
                int iy = oy * sh - ph + ky * dh, ix = ox * sw - pw + kx * dw;
                if (iy >= 0 && iy < h && ix >= 0 && ix < w) m = Math.Max(m, x[(p * h + iy) * w + ix]);
            }
            y[(p * oh + oy) * ow + ox] = m;
        }
        return y;
    }

    internal static double[] Avg(double[] x, int planes, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw, bool ceil, bool countIncludePad, out int oh, out int ow)
    {
        oh = OutputSize(h, kh, sh, ph, 1, ceil);
        ow = OutputSize(w, kw, sw, pw, 1, ceil);
        var y = new double[planes * oh * ow];
        for (int p = 0; p < planes; p++)
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            // PyTorch: the window is clipped to the padded input for the divisor with padding, to the input without.
            int y0 = oy * sh - ph, x0 = ox * sw - pw;
            int y1 = Math.Min(y0 + kh, h + ph), x1 = Math.Min(x0 + kw, w + pw);
            int padded = (y1 - y0) * (x1 - x0);
            y0 = Math.Max(y0, 0); x0 = Math.Max(x0, 0); y1 = Math.Min(y1, h); x1 = Math.Min(x1, w);
            double sum = 0;
            for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) sum += x[(p * h + iy) * w + ix];
            y[(p * oh + oy) * ow + ox] = sum / (countIncludePad ? padded : (y1 - y0) * (x1 - x0));
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
