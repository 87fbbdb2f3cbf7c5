using System.Globalization;
using System.Numerics;
using System.Text;

namespace Kiln;

/// <summary>
/// Writes a tensor the way PyTorch prints one (<c>torch._tensor_str</c>), so output reads the same in
/// both: 4 decimals, one width per tensor, integer-valued floats as "1.", scientific notation when
/// the magnitudes span more than 1000x (or reach 1e8, or go below 1e-4), at most 1000 elements before
/// only the first and last 3 of each dimension are shown, and lines of at most 80 characters.
/// Numbers are rounded from their exact binary value, half to even, as Python's format does.
/// </summary>
internal static class TensorPrinter
{
    private const int Precision = 4;
    private const int Threshold = 1000;
    private const int EdgeItems = 3;
    private const int LineWidth = 80;
    private const string Prefix = "tensor(";

    internal static string Format(Tensor t)
    {
        int indent = Prefix.Length;
        var suffixes = new List<string>();
        string body;
        if (t.NumElements == 0)
        {
            // As NumPy does, an empty tensor shows its shape unless it is (0,), and always a non-float32 dtype.
            if (t.Rank != 1) suffixes.Add("size=" + SizeTuple(t.ShapeArray));
            if (t.DType != DType.Float32) suffixes.Add("dtype=" + t.DType.Name());
            body = "[]";
        }
        else
        {
            if (t.DType is not (DType.Float32 or DType.Int64 or DType.Bool)) suffixes.Add("dtype=" + t.DType.Name());
            body = new Printer(t).Body(indent);
        }
        if (t.GradFnName is { } gradFn) suffixes.Add($"grad_fn=<{gradFn}>");
        else if (t.RequiresGrad) suffixes.Add("requires_grad=True");
        return AddSuffixes(Prefix + body, suffixes, indent);
    }

    internal static string SizeTuple(int[] shape) => "(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")");

    private static string AddSuffixes(string body, List<string> suffixes, int indent)
    {
        var sb = new StringBuilder(body);
        // PyTorch's measure of the last line (one more than its length; two more when there is one line).
        int lastLineLength = body.Length - body.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLength + suffix.Length + 2 > LineWidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(suffix);
                lastLineLength = indent + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLength += suffix.Length + 2;
            }
        }
        return sb.Append(')').ToString();
    }

    /// <summary>One tensor being printed: which elements show, how wide each is, and how floats are written.</summary>
    private sealed unsafe class Printer
    {
        private readonly Tensor _t;
        private readonly bool _summarize;
        private readonly bool _floating;
        private bool _intMode = true;
        private bool _sciMode;
        private int _maxWidth = 1;

        internal Printer(Tensor t)
        {
            _t = t;
            _summarize = t.NumElements > Threshold;
            _floating = t.DType.IsFloatingPoint();
            var offsets = new List<int>();
            CollectShown(0, 0, offsets);
            if (_floating) MeasureFloats(offsets);
            else foreach (var o in offsets) _maxWidth = Math.Max(_maxWidth, NonFloat(o).Length);
        }

        /// <summary>Element offsets of the entries that will be printed (all, or the edges of each dimension).</summary>
        private void CollectShown(int dim, int offset, List<int> offsets)
        {
            if (dim == _t.Rank)
            {
                offsets.Add(offset);
                return;
            }
            foreach (var i in Shown(dim)) CollectShown(dim + 1, offset + i * _t.StridesArray[dim], offsets);
        }

        private IEnumerable<int> Shown(int dim)
        {
            int size = _t.ShapeArray[dim];
            bool elide = _summarize && size > 2 * EdgeItems;
            for (int i = 0; i < size; i++)
            {
                if (elide && i == EdgeItems) i = size - EdgeItems;
                yield return i;
            }
        }

        private void MeasureFloats(List<int> offsets)
        {
            double min = double.PositiveInfinity, max = 0;
            var values = new List<double>();
            foreach (var o in offsets)
            {
                double v = Float(o);
                if (!double.IsFinite(v) || v == 0) continue;
                values.Add(v);
                min = Math.Min(min, Math.Abs(v));
                max = Math.Max(max, Math.Abs(v));
                if (v != Math.Ceiling(v)) _intMode = false;
            }
            if (values.Count == 0) return;
            _sciMode = max / min > 1000.0 || max > 1.0e8 || (!_intMode && min < 1.0e-4);
            foreach (var v in values)
            {
                int width = _sciMode ? Scientific(v, Precision).Length
                    : _intMode ? Fixed(v, 0).Length + 1
                    : Fixed(v, Precision).Length;
                _maxWidth = Math.Max(_maxWidth, width);
            }
        }

        private double Float(int offset) => _t.DType == DType.Float32
            ? ((float*)_t.DataPointer)[offset]
            : ((double*)_t.DataPointer)[offset];

        private string NonFloat(int offset)
        {
            void* p = _t.DataPointer;
            return _t.DType switch
            {
                DType.Int32 => ((int*)p)[offset].ToString(CultureInfo.InvariantCulture),
                DType.Int64 => ((long*)p)[offset].ToString(CultureInfo.InvariantCulture),
                DType.UInt8 => ((byte*)p)[offset].ToString(CultureInfo.InvariantCulture),
                DType.Int8 => ((sbyte*)p)[offset].ToString(CultureInfo.InvariantCulture),
                DType.Bool => ((byte*)p)[offset] != 0 ? "True" : "False",
                _ => throw new InvalidOperationException($"cannot print {_t.DType.Name()}"),
            };
        }

        private string Element(int offset)
        {
            string text;
            if (!_floating) text = NonFloat(offset);
            else
            {
                double v = Float(offset);
                if (_sciMode) text = Scientific(v, Precision);
                else if (_intMode) text = double.IsFinite(v) ? Fixed(v, 0) + "." : Fixed(v, 0);
                else text = Fixed(v, Precision);
            }
            return text.Length >= _maxWidth ? text : new string(' ', _maxWidth - text.Length) + text;
        }

        internal string Body(int indent) => Nested(0, 0, indent);

        private string Nested(int dim, int offset, int indent)
        {
            int rank = _t.Rank - dim;
            if (rank == 0) return Element(offset);
            if (rank == 1) return Vector(dim, offset, indent);
            var slices = new List<string>();
            int size = _t.ShapeArray[dim];
            foreach (var i in Shown(dim))
            {
                if (_summarize && size > 2 * EdgeItems && i == size - EdgeItems) slices.Add("...");
                slices.Add(Nested(dim + 1, offset + i * _t.StridesArray[dim], indent + 1));
            }
            return "[" + string.Join("," + new string('\n', rank - 1) + new string(' ', indent + 1), slices) + "]";
        }

        private string Vector(int dim, int offset, int indent)
        {
            int perLine = Math.Max(1, (LineWidth - indent) / (_maxWidth + 2));
            var data = new List<string>();
            int size = _t.ShapeArray[dim];
            foreach (var i in Shown(dim))
            {
                if (_summarize && size > 2 * EdgeItems && i == size - EdgeItems) data.Add(" ...");
                data.Add(Element(offset + i * _t.StridesArray[dim]));
            }
            var lines = new List<string>();
            for (int i = 0; i < data.Count; i += perLine)
                lines.Add(string.Join(", ", data.GetRange(i, Math.Min(perLine, data.Count - i))));
            return "[" + string.Join(",\n" + new string(' ', indent + 1), lines) + "]";
        }
    }

    /// <summary>Python's <c>f"{v:.{digits}f}"</c>: fixed point, rounded half to even from the exact binary value.</summary>
    internal static string Fixed(double v, int digits)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        var (num, den) = Exact(Math.Abs(v));
        var scaled = RoundHalfEven(num * BigInteger.Pow(10, digits), den).ToString(CultureInfo.InvariantCulture);
        if (digits > 0)
        {
            if (scaled.Length <= digits) scaled = new string('0', digits + 1 - scaled.Length) + scaled;
            scaled = scaled[..^digits] + "." + scaled[^digits..];
        }
        return double.IsNegative(v) ? "-" + scaled : scaled;
    }

    /// <summary>Python's <c>f"{v:.{digits}e}"</c>: one digit, a point, <paramref name="digits"/> digits, and a signed exponent of at least two digits.</summary>
    internal static string Scientific(double v, int digits)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        int exponent = 0;
        BigInteger mantissa = 0;
        if (v != 0)
        {
            var (num, den) = Exact(Math.Abs(v));
            exponent = (int)Math.Floor(Math.Log10(Math.Abs(v)));
            var low = BigInteger.Pow(10, digits);
            var high = low * 10;
            // Log10 can be off by one near powers of ten, and rounding can carry to 10^(digits+1): step until it fits.
            for (int attempt = 0; attempt < 4; attempt++)
            {
                int shift = digits - exponent;
                mantissa = shift >= 0 ? RoundHalfEven(num * BigInteger.Pow(10, shift), den) : RoundHalfEven(num, den * BigInteger.Pow(10, -shift));
                if (mantissa >= high) exponent++;
                else if (mantissa < low) exponent--;
                else break;
            }
        }
        var text = mantissa.ToString(CultureInfo.InvariantCulture).PadLeft(digits + 1, '0');
        var sb = new StringBuilder();
        if (double.IsNegative(v)) sb.Append('-');
        sb.Append(text[0]);
        if (digits > 0) sb.Append('.').Append(text, 1, digits);
        sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary>A finite non-negative double as an exact fraction num / den, den a power of two.</summary>
    private static (BigInteger Num, BigInteger Den) Exact(double v)
    {
        long bits = BitConverter.DoubleToInt64Bits(v);
        int biased = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xF_FFFF_FFFF_FFFFL;
        long mantissa = biased == 0 ? fraction : fraction | (1L << 52);
        int exponent = biased == 0 ? -1074 : biased - 1075;
        return exponent >= 0
            ? (new BigInteger(mantissa) << exponent, BigInteger.One)
            : (new BigInteger(mantissa), BigInteger.One << -exponent);
    }

    private static BigInteger RoundHalfEven(BigInteger num, BigInteger den)
    {
        var q = BigInteger.DivRem(num, den, out var r);
        int c = (r * 2).CompareTo(den);
        return c > 0 || (c == 0 && !q.IsEven) ? q + 1 : q;
    }
}
