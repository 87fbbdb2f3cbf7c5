using System.Globalization;
using System.Text;

namespace Kiln.NN;

/// <summary>
/// Formats values the way Python's repr() does, so module printouts read exactly as PyTorch's
/// (<c>eps=1e-05</c>, <c>alpha=1.0</c>, <c>bias=True</c>, <c>kernel_size=(3,)</c>).
/// </summary>
internal static class PyRepr
{
    internal static string Bool(bool value) => value ? "True" : "False";

    /// <summary>A Python float: the shortest round-trip digits, fixed notation for exponents in [-4, 16), else <c>1e-05</c> style.</summary>
    internal static string Float(double value)
    {
        if (double.IsNaN(value)) return "nan";
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        if (value == 0) return double.IsNegative(value) ? "-0.0" : "0.0";
        var (digits, exponent) = Decompose(Math.Abs(value));
        var sb = new StringBuilder();
        if (value < 0) sb.Append('-');
        if (exponent < -4 || exponent >= 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(exponent < 0 ? '-' : '+').Append(Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (exponent < 0)
        {
            sb.Append("0.").Append('0', -exponent - 1).Append(digits);
        }
        else if (digits.Length <= exponent + 1)
        {
            sb.Append(digits).Append('0', exponent + 1 - digits.Length).Append(".0");
        }
        else
        {
            sb.Append(digits, 0, exponent + 1).Append('.').Append(digits, exponent + 1, digits.Length - exponent - 1);
        }
        return sb.ToString();
    }

    /// <summary>An integral value as a Python int (<c>20</c>), any other as a Python float: for arguments PyTorch's defaults give as ints.</summary>
    internal static string Number(double value)
        => Math.Abs(value) < 1e15 && value == Math.Floor(value) ? ((long)value).ToString(CultureInfo.InvariantCulture) : Float(value);

    /// <summary>A Python tuple of ints: <c>(3,)</c>, <c>(3, 4)</c>.</summary>
    internal static string Tuple(params int[] values)
        => values.Length == 1 ? $"({values[0]},)" : "(" + string.Join(", ", values) + ")";

    // The significant digits (no leading or trailing zeros) of a positive finite value and the
    // decimal exponent of the first one, from .NET's shortest round-trip form.
    private static (string Digits, int Exponent) Decompose(double value)
    {
        var r = value.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            var mantissa = r[..e];
            int exponent = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            var mantissaDigits = mantissa.Replace(".", "");
            return (mantissaDigits.TrimEnd('0') is { Length: > 0 } d ? d : "0", exponent);
        }
        int point = r.IndexOf('.');
        string whole = point < 0 ? r : r[..point], fraction = point < 0 ? "" : r[(point + 1)..];
        var all = whole + fraction;
        int first = 0;
        while (first < all.Length - 1 && all[first] == '0') first++;
        return (all[first..].TrimEnd('0'), whole.Length - first - 1);
    }
}
