using System.Globalization;
using System.Text;
using Kiln.NN;

namespace Kiln.IO;

/// <summary>
/// A file name with Python <c>str.format</c> fields, as Keras's ModelCheckpoint takes them:
/// <c>"ckpt/epoch{epoch:02d}-{val_loss:.2f}.safetensors"</c>. A field is a name and an optional
/// format spec <c>[0][width][.precision][type]</c> with type <c>d</c> (a whole number), <c>f</c>/<c>F</c>
/// (fixed, 6 decimals by default), <c>e</c>/<c>E</c> (scientific, two exponent digits at least, as
/// Python writes it), <c>g</c>/<c>G</c> (general) or <c>%</c>; without a type a whole-number field
/// (epoch, batch) prints as an integer and any other as Python's <c>str(float)</c>. <c>{{</c> and
/// <c>}}</c> are literal braces. The template is checked when it is made; the names are checked when
/// it is filled, since only then are the logged values known.
/// </summary>
internal sealed class PathTemplate
{
    private readonly List<Part> _parts = [];

    private sealed record Part(string? Literal, string? Name, Spec Spec);

    private readonly record struct Spec(bool Zero, int Width, int? Precision, char Type);

    /// <summary>Parses <paramref name="template"/>; a malformed field is an <see cref="ArgumentException"/> naming it.</summary>
    public PathTemplate(string template, string argument)
    {
        var literal = new StringBuilder();
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '}')
            {
                if (i + 1 < template.Length && template[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }
                throw new ArgumentException($"the file path template \"{template}\" has a '}}' without a '{{' (write '}}}}' for a literal brace)", argument);
            }
            if (c != '{')
            {
                literal.Append(c);
                continue;
            }
            if (i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }
            int end = template.IndexOf('}', i + 1);
            if (end < 0) throw new ArgumentException($"the file path template \"{template}\" has a '{{' without a '}}' (write '{{{{' for a literal brace)", argument);
            if (literal.Length > 0) _parts.Add(new Part(literal.ToString(), null, default));
            literal.Clear();
            var field = template[(i + 1)..end];
            int colon = field.IndexOf(':');
            var name = colon < 0 ? field : field[..colon];
            if (name.Length == 0 || name.Contains('{'))
                throw new ArgumentException($"the file path template \"{template}\" has the field {{{field}}} without a name (fields look like {{epoch:02d}} or {{val_loss:.2f}})", argument);
            var spec = colon < 0 ? default : ParseSpec(field[(colon + 1)..], template, argument);
            _parts.Add(new Part(null, name, spec));
            i = end;
        }
        if (literal.Length > 0) _parts.Add(new Part(literal.ToString(), null, default));
    }

    /// <summary>
    /// The path with each field replaced by its value from <paramref name="values"/>; names in
    /// <paramref name="wholeNumbers"/> print as integers without a type. A name that is not there is a
    /// <see cref="KilnException"/> listing the names that are.
    /// </summary>
    public string Format(IReadOnlyDictionary<string, double> values, IReadOnlySet<string> wholeNumbers)
    {
        var sb = new StringBuilder();
        foreach (var part in _parts)
        {
            if (part.Literal is not null)
            {
                sb.Append(part.Literal);
                continue;
            }
            if (!values.TryGetValue(part.Name!, out double value))
                throw new KilnException($"ModelCheckpoint: the file path names {{{part.Name}}}, which is not among the values it can be filled with: {string.Join(", ", values.Keys)}");
            sb.Append(FormatValue(part.Name!, value, part.Spec, wholeNumbers.Contains(part.Name!)));
        }
        return sb.ToString();
    }

    private static Spec ParseSpec(string spec, string template, string argument)
    {
        int i = 0;
        bool zero = false;
        if (i < spec.Length && spec[i] == '0')
        {
            zero = true;
            i++;
        }
        int width = 0;
        while (i < spec.Length && char.IsAsciiDigit(spec[i]) && width < 1000) width = width * 10 + (spec[i++] - '0');
        int? precision = null;
        if (i < spec.Length && spec[i] == '.')
        {
            i++;
            int start = i, p = 0;
            while (i < spec.Length && char.IsAsciiDigit(spec[i]) && p < 1000) p = p * 10 + (spec[i++] - '0');
            if (i == start) throw BadSpec(spec, template, argument);
            precision = p;
        }
        char type = '\0';
        if (i < spec.Length && "dfFeEgG%".Contains(spec[i])) type = spec[i++];
        if (i != spec.Length || width >= 1000 || precision >= 100) throw BadSpec(spec, template, argument);
        if (type == 'd' && precision is not null) throw BadSpec(spec, template, argument);
        return new Spec(zero, width, precision, type);
    }

    private static ArgumentException BadSpec(string spec, string template, string argument)
        => new($"the file path template \"{template}\" has the format spec \":{spec}\", which is not one Kiln reads: [0][width][.precision][type] with type d, f, e, g or % (as {{epoch:02d}}, {{val_loss:.4f}}, {{loss:e}})", argument);

    private static string FormatValue(string name, double value, Spec spec, bool wholeNumber)
    {
        string text;
        var invariant = CultureInfo.InvariantCulture;
        switch (spec.Type)
        {
            case 'd':
                if (value != Math.Floor(value) || !double.IsFinite(value))
                    throw new KilnException($"ModelCheckpoint: the file path formats {{{name}}} as a whole number (:d), but it is {PyRepr.Float(value)}; use a format such as :.4f");
                text = value.ToString("F0", invariant);
                break;
            case '\0' when wholeNumber && value == Math.Floor(value) && double.IsFinite(value):
                text = value.ToString("F0", invariant);
                break;
            case '\0':
                text = PyRepr.Float(value);
                break;
            case 'f' or 'F':
                text = NonFinite(value, spec.Type == 'F') ?? value.ToString("F" + (spec.Precision ?? 6), invariant);
                break;
            case '%':
                text = NonFinite(value * 100, false) is { } special ? special + "%" : (value * 100).ToString("F" + (spec.Precision ?? 6), invariant) + "%";
                break;
            case 'e' or 'E':
                text = NonFinite(value, spec.Type == 'E') ?? Scientific(value, spec.Precision ?? 6, spec.Type);
                break;
            default:
                text = NonFinite(value, spec.Type == 'G') ?? General(value, spec.Precision ?? 6, spec.Type == 'G' ? 'E' : 'e');
                break;
        }
        if (text.Length >= spec.Width) return text;
        if (!spec.Zero) return text.PadLeft(spec.Width);
        // Zeros go after the sign, as Python pads "-5" to "-005".
        bool signed = text.StartsWith('-');
        return signed ? "-" + text[1..].PadLeft(spec.Width - 1, '0') : text.PadLeft(spec.Width, '0');
    }

    private static string? NonFinite(double value, bool upper)
    {
        if (double.IsNaN(value)) return upper ? "NAN" : "nan";
        if (double.IsInfinity(value)) return (value > 0 ? "" : "-") + (upper ? "INF" : "inf");
        return null;
    }

    // Python's 'e': one digit, the decimals, then e, a sign and at least two exponent digits.
    private static string Scientific(double value, int precision, char e)
    {
        var format = (precision == 0 ? "0" : "0." + new string('0', precision)) + e + "+00";
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    // Python's 'g': scientific when the exponent (after rounding to the precision) is below -4 or at
    // least the precision, fixed otherwise, without trailing zeros either way.
    private static string General(double value, int precision, char e)
    {
        int p = Math.Max(precision, 1);
        if (value == 0) return double.IsNegative(value) ? "-0" : "0";
        var scientific = value.ToString("E" + (p - 1), CultureInfo.InvariantCulture);
        int exponent = int.Parse(scientific[(scientific.IndexOf('E') + 1)..], CultureInfo.InvariantCulture);
        if (exponent < -4 || exponent >= p)
        {
            var mantissa = TrimZeros(scientific[..scientific.IndexOf('E')]);
            return mantissa + e + (exponent < 0 ? "-" : "+") + Math.Abs(exponent).ToString("00", CultureInfo.InvariantCulture);
        }
        return TrimZeros(value.ToString("F" + (p - 1 - exponent), CultureInfo.InvariantCulture));
    }

    private static string TrimZeros(string number)
        => number.Contains('.') ? number.TrimEnd('0').TrimEnd('.') : number;
}
