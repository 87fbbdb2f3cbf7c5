using System.Globalization;

namespace Kiln.Data;

/// <summary>
/// Parses a CSV file of numbers into a float32 feature matrix and a label vector. Fields are separated
/// by one delimiter character and may be quoted ("a, b" with "" for a quote inside); blank lines are
/// skipped; surrounding spaces are ignored. Every error names the file, the line and the column.
/// </summary>
internal static class CsvTable
{
    internal sealed record Result(float[] Features, double[] Labels, int Rows, int FeatureCount, string[] FeatureNames, string LabelName);

    /// <summary>
    /// Reads <paramref name="path"/>; the label column is <paramref name="labelName"/> (looked up in the header)
    /// or <paramref name="labelIndex"/> (0-based, negative from the end). Labels are kept as doubles here,
    /// checked to be whole numbers when <paramref name="integerLabels"/>.
    /// </summary>
    internal static Result Read(string path, bool hasHeader, string? labelName, int labelIndex, char delimiter, bool integerLabels)
    {
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        string[]? header = null;
        int columns = -1, label = -1, lineNumber = 0;
        var features = new List<float>();
        var labels = new List<double>();
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            var fields = Split(line, delimiter, path, lineNumber);
            if (columns < 0)
            {
                columns = fields.Count;
                if (columns < 2) throw new KilnFormatException($"{path}: line {lineNumber} has {columns} column; a dataset needs at least one feature and a label");
                if (hasHeader) header = fields.Select(f => f.Trim()).ToArray();
                label = LabelColumn(path, header, columns, labelName, labelIndex);
                if (hasHeader) continue;
            }
            if (fields.Count != columns)
                throw new KilnFormatException($"{path}: line {lineNumber} has {fields.Count} columns, expected {columns}{(header is null ? " (as the first line)" : " (as the header)")}");
            for (int c = 0; c < columns; c++)
            {
                var text = fields[c].AsSpan().Trim();
                if (c == label)
                {
                    labels.Add(ParseLabel(text, integerLabels, path, lineNumber, c, header));
                }
                else
                {
                    if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value))
                        throw Bad(path, lineNumber, c, header, text, "a number");
                    features.Add(value);
                }
            }
            if ((long)features.Count + columns > int.MaxValue)
                throw new KilnFormatException($"{path}: more than {int.MaxValue} feature values by line {lineNumber}; too large for one tensor");
        }
        if (columns < 0) throw new KilnFormatException($"{path}: the file is empty");
        if (labels.Count == 0) throw new KilnFormatException($"{path}: no data rows{(hasHeader ? " after the header" : "")}");
        var names = new string[columns - 1];
        for (int c = 0, k = 0; c < columns; c++)
            if (c != label) names[k++] = header?[c] ?? $"column {c}";
        return new Result(features.ToArray(), labels.ToArray(), labels.Count, columns - 1, names, header?[label] ?? $"column {label}");
    }

    private static int LabelColumn(string path, string[]? header, int columns, string? labelName, int labelIndex)
    {
        if (labelName is not null)
        {
            if (header is null) throw new ArgumentException($"CsvDataset: the label column is named (\"{labelName}\") but the file is read without a header");
            int found = Array.IndexOf(header, labelName);
            if (found < 0) throw new KilnException($"{path}: no column named \"{labelName}\" in the header (columns: {string.Join(", ", header)})");
            return found;
        }
        int index = labelIndex < 0 ? labelIndex + columns : labelIndex;
        if (index < 0 || index >= columns)
            throw new KilnException($"{path}: label column {labelIndex} is out of range for {columns} columns (expected {-columns}..{columns - 1})");
        return index;
    }

    private static double ParseLabel(ReadOnlySpan<char> text, bool integer, string path, int line, int column, string[]? header)
    {
        if (integer)
        {
            if (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long whole)) return whole;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsInteger(d) && Math.Abs(d) < (1L << 53)) return d;
            throw Bad(path, line, column, header, text, "a whole-number label");
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            throw Bad(path, line, column, header, text, "a number");
        return value;
    }

    private static KilnFormatException Bad(string path, int line, int column, string[]? header, ReadOnlySpan<char> text, string expected) =>
        new($"{path}: line {line}, column {column + 1}{(header is null ? "" : $" (\"{header[column]}\")")}: " +
            (text.IsEmpty ? $"the field is empty, expected {expected}" : $"\"{text}\" is not {expected}"));

    /// <summary>The fields of one line.</summary>
    internal static List<string> Split(string line, char delimiter, string path, int lineNumber)
    {
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();
        int i = 0;
        while (true)
        {
            field.Clear();
            int start = i;
            while (i < line.Length && line[i] == ' ') i++;
            if (i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                        throw new KilnFormatException($"{path}: line {lineNumber}, column {fields.Count + 1}: a quoted field is not closed on this line");
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(line[i++]);
                }
                while (i < line.Length && line[i] == ' ') i++;
                if (i < line.Length && line[i] != delimiter)
                    throw new KilnFormatException($"{path}: line {lineNumber}, column {fields.Count + 1}: text after the closing quote of a quoted field");
            }
            else
            {
                i = start;
                while (i < line.Length && line[i] != delimiter) field.Append(line[i++]);
            }
            fields.Add(field.ToString());
            if (i >= line.Length) return fields;
            i++; // the delimiter
        }
    }
}
