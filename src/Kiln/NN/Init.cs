using Kiln.Ops;

namespace Kiln.NN;

/// <summary>
/// Weight initializers (PyTorch's <c>torch.nn.init</c>). Each fills its tensor in place without
/// recording a gradient, draws from Kiln's seeded generator (<see cref="Engine.ManualSeed"/>), and
/// returns the tensor. Fans are computed as PyTorch does: for a weight [out, in, k...],
/// fan_in = in·∏k and fan_out = out·∏k.
/// </summary>
public static class Init
{
    [ThreadStatic] private static bool t_skipping;

    /// <summary>
    /// Until disposed, the random initializers on this thread leave their tensors as they are and draw
    /// nothing: for building layers whose weights are loaded right after (a saved model), so loading
    /// neither spends time on values it discards nor moves the global random stream.
    /// </summary>
    internal static SkipScope Skipping() => new(true);

    /// <summary>Restores the previous skipping state of the thread when disposed.</summary>
    internal readonly struct SkipScope : IDisposable
    {
        private readonly bool _previous;

        internal SkipScope(bool skip)
        {
            _previous = t_skipping;
            t_skipping = skip;
        }

        public void Dispose() => t_skipping = _previous;
    }

    /// <summary>
    /// The recommended gain for <paramref name="nonlinearity"/>: 1 for linear, convolutions and
    /// sigmoid, 5/3 for tanh, √2 for ReLU, √(2 / (1 + slope²)) for leaky ReLU (slope
    /// <paramref name="param"/>, 0.01 by default), 3/4 for SELU.
    /// </summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double? param = null)
    {
        switch (nonlinearity)
        {
            case Nonlinearity.Tanh: return 5.0 / 3;
            case Nonlinearity.Relu: return Math.Sqrt(2.0);
            case Nonlinearity.Selu: return 3.0 / 4;
            case Nonlinearity.LeakyRelu:
                double slope = param ?? 0.01;
                if (!double.IsFinite(slope)) throw new ArgumentOutOfRangeException(nameof(param), $"CalculateGain: negative slope {slope} is not a finite number");
                return Math.Sqrt(2.0 / (1 + slope * slope));
            default:
                if (!Enum.IsDefined(nonlinearity)) throw new ArgumentOutOfRangeException(nameof(nonlinearity), $"CalculateGain: unknown nonlinearity {nonlinearity}");
                return 1;
        }
    }

    /// <summary>Fills <paramref name="tensor"/> with values drawn uniformly from [<paramref name="a"/>, <paramref name="b"/>).</summary>
    public static Tensor Uniform(Tensor tensor, double a = 0, double b = 1)
    {
        CheckFloat("Uniform", tensor);
        if (t_skipping) return tensor;
        using var values = Tensor.Uniform(a, b, tensor.ShapeArray, tensor.DType);
        return Write(tensor, values);
    }

    /// <summary>Fills <paramref name="tensor"/> with values drawn from N(<paramref name="mean"/>, <paramref name="std"/>²).</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1)
    {
        CheckFloat("Normal", tensor);
        if (t_skipping) return tensor;
        using var values = Tensor.Normal(mean, std, tensor.ShapeArray, tensor.DType);
        return Write(tensor, values);
    }

    /// <summary>Fills <paramref name="tensor"/> with <paramref name="value"/>.</summary>
    public static Tensor Constant(Tensor tensor, double value)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var values = Tensor.Full(tensor.ShapeArray, value, tensor.DType);
        return Write(tensor, values);
    }

    /// <summary>Fills <paramref name="tensor"/> with zeros.</summary>
    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    /// <summary>Fills <paramref name="tensor"/> with ones.</summary>
    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>Glorot uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out)).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1)
    {
        var (fanIn, fanOut) = Fans("XavierUniform", tensor);
        double a = gain * Math.Sqrt(6.0 / Math.Max(fanIn + fanOut, 1));
        return Uniform(tensor, -a, a);
    }

    /// <summary>Glorot normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1)
    {
        var (fanIn, fanOut) = Fans("XavierNormal", tensor);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / Math.Max(fanIn + fanOut, 1)));
    }

    /// <summary>
    /// He uniform: U(-bound, bound) with bound = gain·√(3 / fan), gain from <paramref name="nonlinearity"/>
    /// with slope <paramref name="a"/> (leaky ReLU) and fan from <paramref name="mode"/>. PyTorch's
    /// layers use a = √5, which gives bound = 1/√fan_in.
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
    {
        double std = KaimingStd("KaimingUniform", tensor, a, mode, nonlinearity);
        double bound = Math.Sqrt(3.0) * std;
        return Uniform(tensor, -bound, bound);
    }

    /// <summary>He normal: N(0, std²) with std = gain / √fan (see <see cref="KaimingUniform"/>).</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn, Nonlinearity nonlinearity = Nonlinearity.LeakyRelu)
        => Normal(tensor, 0, KaimingStd("KaimingNormal", tensor, a, mode, nonlinearity));

    /// <summary>
    /// A (semi-)orthogonal matrix times <paramref name="gain"/>: the tensor, seen as [size(0), rest],
    /// gets orthonormal rows (or columns, when it has more rows than columns), from the QR
    /// decomposition of a standard normal matrix with R's diagonal made positive, as in PyTorch.
    /// </summary>
    public static Tensor Orthogonal(Tensor tensor, double gain = 1)
    {
        CheckFloat("Orthogonal", tensor);
        if (tensor.Rank < 2)
            throw new ArgumentException($"Orthogonal: only tensors with 2 or more dimensions are supported, got shape {tensor.Shape}", nameof(tensor));
        if (tensor.NumElements == 0 || t_skipping) return tensor;
        int rows = tensor.ShapeArray[0], cols = tensor.NumElements / rows;
        double[] a;
        using (var draw = Tensor.Randn([rows, cols], DType.Float64)) a = draw.ToArray<double>();
        bool transpose = rows < cols;
        int m = transpose ? cols : rows, n = transpose ? rows : cols;
        if (transpose) a = Transposed(a, rows, cols);
        var q = OrthonormalColumns(a, m, n);
        if (transpose) q = Transposed(q, m, n);
        for (int i = 0; i < q.Length; i++) q[i] *= gain;
        using var values = Tensor.From<double>(q, tensor.ShapeArray);
        using var cast = values.To(tensor.DType);
        return Write(tensor, cast);
    }

    /// <summary>
    /// PyTorch's default for Linear and convolutions: weight from KaimingUniform(a: √5), i.e.
    /// U(±1/√fan_in), and bias from U(±1/√fan_in).
    /// </summary>
    internal static void LayerDefault(Tensor weight, Tensor? bias)
    {
        KaimingUniform(weight, Math.Sqrt(5));
        if (bias is null) return;
        var (fanIn, _) = Fans("LayerDefault", weight);
        double bound = fanIn > 0 ? 1 / Math.Sqrt(fanIn) : 0;
        Uniform(bias, -bound, bound);
    }

    /// <summary>(fan_in, fan_out) of a weight of rank 2 or more.</summary>
    internal static (int FanIn, int FanOut) Fans(string op, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank < 2)
            throw new ArgumentException($"{op}: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions, got shape {tensor.Shape}", nameof(tensor));
        int receptive = 1;
        for (int i = 2; i < tensor.Rank; i++) receptive *= tensor.ShapeArray[i];
        return (tensor.ShapeArray[1] * receptive, tensor.ShapeArray[0] * receptive);
    }

    private static double KaimingStd(string op, Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = Fans(op, tensor);
        int fan = mode switch
        {
            FanMode.FanIn => fanIn,
            FanMode.FanOut => fanOut,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), $"{op}: unknown fan mode {mode}"),
        };
        if (fan == 0) throw new ArgumentException($"{op}: cannot initialize a tensor with zero {(mode == FanMode.FanIn ? "fan in" : "fan out")} (shape {tensor.Shape})", nameof(tensor));
        return CalculateGain(nonlinearity, a) / Math.Sqrt(fan);
    }

    private static void CheckFloat(string op, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (!tensor.DType.IsFloatingPoint())
            throw new ArgumentException($"{op}: needs a float32 or float64 tensor, got {tensor.DType.Name()}", nameof(tensor));
    }

    // Copies values into the tensor's memory directly: an initializer changes data, not the graph,
    // so it bypasses autograd's in-place checks (PyTorch runs init under no_grad).
    private static Tensor Write(Tensor target, Tensor values)
    {
        for (int i = 0; i < target.Rank; i++)
            if (target.StridesArray[i] == 0 && target.ShapeArray[i] > 1)
                throw new ArgumentException($"cannot initialize a broadcast (expanded) tensor of shape {target.Shape}: several elements share one memory location", nameof(target));
        Dispatcher.CopyInto(values, target);
        target.BumpVersion();
        return target;
    }

    private static double[] Transposed(double[] a, int rows, int cols)
    {
        var t = new double[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    // Q of the thin QR decomposition of the m×n (m ≥ n) row-major matrix a by Householder
    // reflections, with each column's sign set so that R's diagonal is positive.
    private static double[] OrthonormalColumns(double[] a, int m, int n)
    {
        var reflectors = new double[n][];
        var signs = new double[n];
        for (int k = 0; k < n; k++)
        {
            double norm = 0;
            for (int i = k; i < m; i++) norm += a[i * n + k] * a[i * n + k];
            norm = Math.Sqrt(norm);
            var v = new double[m - k];
            if (norm == 0)
            {
                signs[k] = 1;
                reflectors[k] = v;
                continue;
            }
            double x0 = a[k * n + k];
            double alpha = x0 >= 0 ? -norm : norm;
            for (int i = k; i < m; i++) v[i - k] = a[i * n + k];
            v[0] -= alpha;
            double vNorm = 0;
            foreach (var e in v) vNorm += e * e;
            vNorm = Math.Sqrt(vNorm);
            for (int i = 0; i < v.Length; i++) v[i] /= vNorm;
            for (int j = k; j < n; j++)
            {
                double dot = 0;
                for (int i = k; i < m; i++) dot += v[i - k] * a[i * n + j];
                for (int i = k; i < m; i++) a[i * n + j] -= 2 * dot * v[i - k];
            }
            reflectors[k] = v;
            signs[k] = alpha >= 0 ? 1 : -1;
        }
        var q = new double[m * n];
        for (int i = 0; i < n; i++) q[i * n + i] = 1;
        for (int k = n - 1; k >= 0; k--)
        {
            var v = reflectors[k];
            for (int j = 0; j < n; j++)
            {
                double dot = 0;
                for (int i = k; i < m; i++) dot += v[i - k] * q[i * n + j];
                if (dot == 0) continue;
                for (int i = k; i < m; i++) q[i * n + j] -= 2 * dot * v[i - k];
            }
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) q[i * n + j] *= signs[j];
        return q;
    }
}
